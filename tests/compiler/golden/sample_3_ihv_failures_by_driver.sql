-- duckdb
SELECT
  "DriverName" AS "DriverName",
  "DriverVersion" AS "DriverVersion",
  "FailureName" AS "FailureName",
  "FailureHash" AS "FailureHash",
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
  COUNT(DISTINCT "DeviceId") DESC,
  "DriverName" ASC,
  "DriverVersion" ASC,
  "FailureName" ASC,
  "FailureHash" ASC
-- spark
SELECT
  `DriverName` AS `DriverName`,
  `DriverVersion` AS `DriverVersion`,
  `FailureName` AS `FailureName`,
  `FailureHash` AS `FailureHash`,
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
  COUNT(DISTINCT `DeviceId`) DESC,
  `DriverName` ASC NULLS LAST,
  `DriverVersion` ASC NULLS LAST,
  `FailureName` ASC NULLS LAST,
  `FailureHash` ASC NULLS LAST
-- postgres
SELECT
  "DriverName" AS "DriverName",
  "DriverVersion" AS "DriverVersion",
  "FailureName" AS "FailureName",
  "FailureHash" AS "FailureHash",
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
  COUNT(DISTINCT "DeviceId") DESC NULLS LAST,
  "DriverName" ASC,
  "DriverVersion" ASC,
  "FailureName" ASC,
  "FailureHash" ASC
