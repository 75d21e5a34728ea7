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
ORDER BY
  "FailureDate" ASC,
  "DriverName" ASC
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
ORDER BY
  `FailureDate` ASC NULLS LAST,
  `DriverName` ASC NULLS LAST
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
ORDER BY
  "FailureDate" ASC,
  "DriverName" ASC
