-- duckdb
SELECT
  "DriverName" AS "DriverName",
  COUNT(DISTINCT "DeviceId") AS "DCOUNT(DeviceId)"
FROM "failure_events"
WHERE
  "IhvPartner" = 'Contoso'
  AND "FailureDate" >= CAST('2024-05-01' AS DATE)
  AND "FailureDate" < CAST('2024-05-08' AS DATE)
GROUP BY
  "DriverName"
ORDER BY
  "DCOUNT(DeviceId)" DESC,
  "DriverName" ASC
LIMIT 10
-- spark
SELECT
  `DriverName` AS `DriverName`,
  COUNT(DISTINCT `DeviceId`) AS `DCOUNT(DeviceId)`
FROM `failure_events`
WHERE
  `IhvPartner` = 'Contoso'
  AND `FailureDate` >= CAST('2024-05-01' AS DATE)
  AND `FailureDate` < CAST('2024-05-08' AS DATE)
GROUP BY
  `DriverName`
ORDER BY
  `DCOUNT(DeviceId)` DESC,
  `DriverName` ASC NULLS LAST
LIMIT 10
-- postgres
SELECT
  "DriverName" AS "DriverName",
  COUNT(DISTINCT "DeviceId") AS "DCOUNT(DeviceId)"
FROM "failure_events"
WHERE
  "IhvPartner" = 'Contoso'
  AND "FailureDate" >= CAST('2024-05-01' AS DATE)
  AND "FailureDate" < CAST('2024-05-08' AS DATE)
GROUP BY
  "DriverName"
ORDER BY
  "DCOUNT(DeviceId)" DESC NULLS LAST,
  "DriverName" ASC
LIMIT 10
