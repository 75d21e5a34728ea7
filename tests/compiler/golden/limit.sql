-- duckdb
SELECT
  "FailureName" AS "FailureName"
FROM "failure_events_by_oem"
WHERE
  "OemPartner" = 'Fabrikam'
  AND "FailureDate" >= CAST('2024-05-01' AS DATE)
  AND "FailureDate" < CAST('2024-05-08' AS DATE)
ORDER BY
  "FailureName" ASC
LIMIT 25
-- spark
SELECT
  `FailureName` AS `FailureName`
FROM `failure_events_by_oem`
WHERE
  `OemPartner` = 'Fabrikam'
  AND `FailureDate` >= CAST('2024-05-01' AS DATE)
  AND `FailureDate` < CAST('2024-05-08' AS DATE)
ORDER BY
  `FailureName` ASC NULLS LAST
LIMIT 25
-- postgres
SELECT
  "FailureName" AS "FailureName"
FROM "failure_events_by_oem"
WHERE
  "OemPartner" = 'Fabrikam'
  AND "FailureDate" >= CAST('2024-05-01' AS DATE)
  AND "FailureDate" < CAST('2024-05-08' AS DATE)
ORDER BY
  "FailureName" ASC
LIMIT 25
