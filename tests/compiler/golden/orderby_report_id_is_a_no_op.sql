-- duckdb
SELECT
  CAST(9 AS BIGINT) AS "ReportId",
  "Market" AS "Market"
FROM "failure_events"
WHERE
  "IhvPartner" = 'Contoso'
  AND "FailureDate" >= CAST('2024-05-01' AS DATE)
  AND "FailureDate" < CAST('2024-05-08' AS DATE)
ORDER BY
  "Market" ASC
-- spark
SELECT
  CAST(9 AS BIGINT) AS `ReportId`,
  `Market` AS `Market`
FROM `failure_events`
WHERE
  `IhvPartner` = 'Contoso'
  AND `FailureDate` >= CAST('2024-05-01' AS DATE)
  AND `FailureDate` < CAST('2024-05-08' AS DATE)
ORDER BY
  `Market` ASC NULLS LAST
-- postgres
SELECT
  CAST(9 AS BIGINT) AS "ReportId",
  "Market" AS "Market"
FROM "failure_events"
WHERE
  "IhvPartner" = 'Contoso'
  AND "FailureDate" >= CAST('2024-05-01' AS DATE)
  AND "FailureDate" < CAST('2024-05-08' AS DATE)
ORDER BY
  "Market" ASC
