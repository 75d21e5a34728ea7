-- duckdb
SELECT
  CAST(42 AS BIGINT) AS "ReportId",
  "FailureDate" AS "FailureDate",
  "DriverName" AS "DriverName"
FROM "failure_events"
WHERE
  "IhvPartner" = 'Contoso'
  AND "FailureDate" >= CAST('2024-05-01' AS DATE)
  AND "FailureDate" < CAST('2024-05-08' AS DATE)
-- spark
SELECT
  CAST(42 AS BIGINT) AS `ReportId`,
  `FailureDate` AS `FailureDate`,
  `DriverName` AS `DriverName`
FROM `failure_events`
WHERE
  `IhvPartner` = 'Contoso'
  AND `FailureDate` >= CAST('2024-05-01' AS DATE)
  AND `FailureDate` < CAST('2024-05-08' AS DATE)
-- postgres
SELECT
  CAST(42 AS BIGINT) AS "ReportId",
  "FailureDate" AS "FailureDate",
  "DriverName" AS "DriverName"
FROM "failure_events"
WHERE
  "IhvPartner" = 'Contoso'
  AND "FailureDate" >= CAST('2024-05-01' AS DATE)
  AND "FailureDate" < CAST('2024-05-08' AS DATE)
