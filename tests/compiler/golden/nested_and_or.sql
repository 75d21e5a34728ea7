-- duckdb
SELECT
  "FailureName" AS "FailureName"
FROM "failure_events"
WHERE
  "IhvPartner" = 'Contoso'
  AND "FailureDate" >= CAST('2024-05-01' AS DATE)
  AND "FailureDate" < CAST('2024-05-08' AS DATE)
  AND (
    (
      "EventType" = 'Kernel'
      AND (
        "Architecture" = 'arm64'
        OR (
          "EventCount" >= 10 AND "FailureDate" < CAST('2024-05-05' AS DATE)
        )
      )
    )
    AND (
      "Market" <> 'US' OR "FailureDateTime" > CAST('2024-05-02 04:30:00' AS TIMESTAMP)
    )
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
    (
      `EventType` = 'Kernel'
      AND (
        `Architecture` = 'arm64'
        OR (
          `EventCount` >= 10 AND `FailureDate` < CAST('2024-05-05' AS DATE)
        )
      )
    )
    AND (
      `Market` <> 'US' OR `FailureDateTime` > CAST('2024-05-02 04:30:00' AS TIMESTAMP)
    )
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
    (
      "EventType" = 'Kernel'
      AND (
        "Architecture" = 'arm64'
        OR (
          "EventCount" >= 10 AND "FailureDate" < CAST('2024-05-05' AS DATE)
        )
      )
    )
    AND (
      "Market" <> 'US' OR "FailureDateTime" > CAST('2024-05-02 04:30:00' AS TIMESTAMP)
    )
  )
ORDER BY
  "FailureName" ASC
