-- duckdb
SELECT
  "FailureHash" AS "FailureHash"
FROM "failure_events_by_oem"
WHERE
  "OemPartner" = 'Fabrikam'
  AND "FailureDate" >= CAST('2024-05-01' AS DATE)
  AND "FailureDate" < CAST('2024-05-08' AS DATE)
  AND (
    "FailureHash" = CAST('0f8fad5b-d9cb-469f-a165-70867728950e' AS UUID)
    AND "CabExpirationTime" >= CAST('2024-05-01 00:00:00' AS TIMESTAMP)
  )
ORDER BY
  "FailureHash" ASC
-- spark
SELECT
  `FailureHash` AS `FailureHash`
FROM `failure_events_by_oem`
WHERE
  `OemPartner` = 'Fabrikam'
  AND `FailureDate` >= CAST('2024-05-01' AS DATE)
  AND `FailureDate` < CAST('2024-05-08' AS DATE)
  AND (
    `FailureHash` = CAST('0f8fad5b-d9cb-469f-a165-70867728950e' AS STRING)
    AND `CabExpirationTime` >= CAST('2024-05-01 00:00:00' AS TIMESTAMP)
  )
ORDER BY
  `FailureHash` ASC NULLS LAST
-- postgres
SELECT
  "FailureHash" AS "FailureHash"
FROM "failure_events_by_oem"
WHERE
  "OemPartner" = 'Fabrikam'
  AND "FailureDate" >= CAST('2024-05-01' AS DATE)
  AND "FailureDate" < CAST('2024-05-08' AS DATE)
  AND (
    "FailureHash" = CAST('0f8fad5b-d9cb-469f-a165-70867728950e' AS UUID)
    AND "CabExpirationTime" >= CAST('2024-05-01 00:00:00' AS TIMESTAMP)
  )
ORDER BY
  "FailureHash" ASC
