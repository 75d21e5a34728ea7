-- duckdb
SELECT
  "DriverName" AS "DriverName",
  "DriverVersion" AS "DriverVersion",
  "FailureName" AS "FailureName",
  SUBSTRING(LOWER(HEX("FailureHash")), 1, 8) || '-' || SUBSTRING(LOWER(HEX("FailureHash")), 9, 4) || '-' || SUBSTRING(LOWER(HEX("FailureHash")), 13, 4) || '-' || SUBSTRING(LOWER(HEX("FailureHash")), 17, 4) || '-' || SUBSTRING(LOWER(HEX("FailureHash")), 21, 12) AS "FailureHash",
  CAST(SUM("EventCount") AS BIGINT) AS "SUM(EventCount)",
  COUNT(DISTINCT "DeviceId") AS "DCOUNT(DeviceId)"
FROM "failure_events"
WHERE
  "IhvPartner" = 'Contoso'
  AND "FailureDate" >= CAST('2024-05-01' AS DATE)
  AND "FailureDate" < CAST('2024-05-08' AS DATE)
GROUP BY
  "DriverName",
  "DriverVersion",
  "FailureName",
  "FailureHash"
ORDER BY
  "DCOUNT(DeviceId)" DESC,
  "DriverName" ASC,
  "DriverVersion" ASC,
  "FailureName" ASC,
  "FailureHash" ASC
-- spark
SELECT
  `DriverName` AS `DriverName`,
  `DriverVersion` AS `DriverVersion`,
  `FailureName` AS `FailureName`,
  SUBSTRING(LOWER(HEX(`FailureHash`)), 1, 8) || '-' || SUBSTRING(LOWER(HEX(`FailureHash`)), 9, 4) || '-' || SUBSTRING(LOWER(HEX(`FailureHash`)), 13, 4) || '-' || SUBSTRING(LOWER(HEX(`FailureHash`)), 17, 4) || '-' || SUBSTRING(LOWER(HEX(`FailureHash`)), 21, 12) AS `FailureHash`,
  CAST(SUM(`EventCount`) AS BIGINT) AS `SUM(EventCount)`,
  COUNT(DISTINCT `DeviceId`) AS `DCOUNT(DeviceId)`
FROM `failure_events`
WHERE
  `IhvPartner` = 'Contoso'
  AND `FailureDate` >= CAST('2024-05-01' AS DATE)
  AND `FailureDate` < CAST('2024-05-08' AS DATE)
GROUP BY
  `DriverName`,
  `DriverVersion`,
  `FailureName`,
  `FailureHash`
ORDER BY
  `DCOUNT(DeviceId)` DESC,
  `DriverName` ASC NULLS LAST,
  `DriverVersion` ASC NULLS LAST,
  `FailureName` ASC NULLS LAST,
  `FailureHash` ASC NULLS LAST
-- postgres
SELECT
  "DriverName" AS "DriverName",
  "DriverVersion" AS "DriverVersion",
  "FailureName" AS "FailureName",
  SUBSTRING(LOWER(HEX("FailureHash")) FROM 1 FOR 8) || '-' || SUBSTRING(LOWER(HEX("FailureHash")) FROM 9 FOR 4) || '-' || SUBSTRING(LOWER(HEX("FailureHash")) FROM 13 FOR 4) || '-' || SUBSTRING(LOWER(HEX("FailureHash")) FROM 17 FOR 4) || '-' || SUBSTRING(LOWER(HEX("FailureHash")) FROM 21 FOR 12) AS "FailureHash",
  CAST(SUM("EventCount") AS BIGINT) AS "SUM(EventCount)",
  COUNT(DISTINCT "DeviceId") AS "DCOUNT(DeviceId)"
FROM "failure_events"
WHERE
  "IhvPartner" = 'Contoso'
  AND "FailureDate" >= CAST('2024-05-01' AS DATE)
  AND "FailureDate" < CAST('2024-05-08' AS DATE)
GROUP BY
  "DriverName",
  "DriverVersion",
  "FailureName",
  "FailureHash"
ORDER BY
  "DCOUNT(DeviceId)" DESC NULLS LAST,
  "DriverName" ASC,
  "DriverVersion" ASC,
  "FailureName" ASC,
  "FailureHash" ASC
