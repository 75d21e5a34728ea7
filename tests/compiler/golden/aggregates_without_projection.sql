-- duckdb
SELECT
  COUNT(DISTINCT "DeviceId") AS "DCOUNT(DeviceId)"
FROM "failure_events"
WHERE
  "IhvPartner" = 'Contoso'
  AND "FailureDate" >= CAST('2024-05-01' AS DATE)
  AND "FailureDate" < CAST('2024-05-08' AS DATE)
-- spark
SELECT
  COUNT(DISTINCT `DeviceId`) AS `DCOUNT(DeviceId)`
FROM `failure_events`
WHERE
  `IhvPartner` = 'Contoso'
  AND `FailureDate` >= CAST('2024-05-01' AS DATE)
  AND `FailureDate` < CAST('2024-05-08' AS DATE)
-- postgres
SELECT
  COUNT(DISTINCT "DeviceId") AS "DCOUNT(DeviceId)"
FROM "failure_events"
WHERE
  "IhvPartner" = 'Contoso'
  AND "FailureDate" >= CAST('2024-05-01' AS DATE)
  AND "FailureDate" < CAST('2024-05-08' AS DATE)
