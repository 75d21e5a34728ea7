-- duckdb
SELECT
  "DeviceId" AS "DeviceId"
FROM "failure_events"
WHERE
  "IhvPartner" = 'Contoso'
  AND "FailureDate" >= CAST('2024-05-01' AS DATE)
  AND "FailureDate" < CAST('2024-05-08' AS DATE)
  AND (
    "OSVersion" IN ('10.0.22631.4317', '10.0.26100.1')
    AND "DeviceId" IN (
      CAST('0f8fad5b-d9cb-469f-a165-70867728950e' AS UUID),
      CAST('7c9e6679-7425-40de-944b-e07fc1f90ae7' AS UUID)
    )
    AND "EventCount" IN (1, 2)
  )
ORDER BY
  "DeviceId" ASC
-- spark
SELECT
  `DeviceId` AS `DeviceId`
FROM `failure_events`
WHERE
  `IhvPartner` = 'Contoso'
  AND `FailureDate` >= CAST('2024-05-01' AS DATE)
  AND `FailureDate` < CAST('2024-05-08' AS DATE)
  AND (
    `OSVersion` IN ('10.0.22631.4317', '10.0.26100.1')
    AND `DeviceId` IN (
      CAST('0f8fad5b-d9cb-469f-a165-70867728950e' AS STRING),
      CAST('7c9e6679-7425-40de-944b-e07fc1f90ae7' AS STRING)
    )
    AND `EventCount` IN (1, 2)
  )
ORDER BY
  `DeviceId` ASC NULLS LAST
-- postgres
SELECT
  "DeviceId" AS "DeviceId"
FROM "failure_events"
WHERE
  "IhvPartner" = 'Contoso'
  AND "FailureDate" >= CAST('2024-05-01' AS DATE)
  AND "FailureDate" < CAST('2024-05-08' AS DATE)
  AND (
    "OSVersion" IN ('10.0.22631.4317', '10.0.26100.1')
    AND "DeviceId" IN (
      CAST('0f8fad5b-d9cb-469f-a165-70867728950e' AS UUID),
      CAST('7c9e6679-7425-40de-944b-e07fc1f90ae7' AS UUID)
    )
    AND "EventCount" IN (1, 2)
  )
ORDER BY
  "DeviceId" ASC
