-- duckdb
SELECT
  CAST(NULL AS BIGINT) AS "ReportId",
  "FailureName" AS "FailureName"
FROM "failure_events"
WHERE
  "IhvPartner" = 'Contoso'
  AND "FailureDate" >= CAST('2024-05-01' AS DATE)
  AND "FailureDate" < CAST('2024-05-08' AS DATE)
ORDER BY
  "FailureName" ASC
-- spark
SELECT
  CAST(NULL AS BIGINT) AS `ReportId`,
  `FailureName` AS `FailureName`
FROM `failure_events`
WHERE
  `IhvPartner` = 'Contoso'
  AND `FailureDate` >= CAST('2024-05-01' AS DATE)
  AND `FailureDate` < CAST('2024-05-08' AS DATE)
ORDER BY
  `FailureName` ASC NULLS LAST
-- postgres
SELECT
  CAST(NULL AS BIGINT) AS "ReportId",
  "FailureName" AS "FailureName"
FROM "failure_events"
WHERE
  "IhvPartner" = 'Contoso'
  AND "FailureDate" >= CAST('2024-05-01' AS DATE)
  AND "FailureDate" < CAST('2024-05-08' AS DATE)
ORDER BY
  "FailureName" ASC
