-- duckdb
SELECT
  "FailureName" AS "FailureName"
FROM "failure_events"
WHERE
  "IhvPartner" = 'Contoso'
  AND "FailureDate" >= CAST('2024-05-01' AS DATE)
  AND "FailureDate" < CAST('2024-05-08' AS DATE)
  AND (
    "FailureName" LIKE '0x9F_%' AND "Symbol" = 'it''s \ "odd"'
  )
ORDER BY
  "FailureName" ASC
-- spark
SELECT
  `FailureName` AS `FailureName`
FROM `failure_events`
WHERE
  `IhvPartner` = 'Contoso'
  AND `FailureDate` >= CAST('2024-05-01' AS DATE)
  AND `FailureDate` < CAST('2024-05-08' AS DATE)
  AND (
    `FailureName` LIKE '0x9F_%' AND `Symbol` = 'it\'s \\ "odd"'
  )
ORDER BY
  `FailureName` ASC NULLS LAST
-- postgres
SELECT
  "FailureName" AS "FailureName"
FROM "failure_events"
WHERE
  "IhvPartner" = 'Contoso'
  AND "FailureDate" >= CAST('2024-05-01' AS DATE)
  AND "FailureDate" < CAST('2024-05-08' AS DATE)
  AND (
    "FailureName" LIKE '0x9F_%' AND "Symbol" = 'it''s \ "odd"'
  )
ORDER BY
  "FailureName" ASC
