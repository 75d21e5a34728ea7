-- duckdb
SELECT
  "DriverName" AS "DriverName",
  "DriverVersion" AS "DriverVersion",
  "FailureName" AS "FailureName",
  "FailureHash" AS "FailureHash",
  SUM("EventCount") AS "SUM(EventCount)",
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
  COUNT(DISTINCT "DeviceId") DESC
-- spark
SELECT
  `DriverName` AS `DriverName`,
  `DriverVersion` AS `DriverVersion`,
  `FailureName` AS `FailureName`,
  `FailureHash` AS `FailureHash`,
  SUM(`EventCount`) AS `SUM(EventCount)`,
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
  COUNT(DISTINCT `DeviceId`) DESC
-- postgres
SELECT
  "DriverName" AS "DriverName",
  "DriverVersion" AS "DriverVersion",
  "FailureName" AS "FailureName",
  "FailureHash" AS "FailureHash",
  SUM("EventCount") AS "SUM(EventCount)",
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
  COUNT(DISTINCT "DeviceId") DESC NULLS LAST
