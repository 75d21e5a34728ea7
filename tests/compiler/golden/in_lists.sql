-- duckdb
SELECT
  SUBSTRING(LOWER(HEX("DeviceId")), 1, 8) || '-' || SUBSTRING(LOWER(HEX("DeviceId")), 9, 4) || '-' || SUBSTRING(LOWER(HEX("DeviceId")), 13, 4) || '-' || SUBSTRING(LOWER(HEX("DeviceId")), 17, 4) || '-' || SUBSTRING(LOWER(HEX("DeviceId")), 21, 12) AS "DeviceId"
FROM "failure_events"
WHERE
  "IhvPartner" = 'Contoso'
  AND "FailureDate" >= CAST('2024-05-01' AS DATE)
  AND "FailureDate" < CAST('2024-05-08' AS DATE)
  AND (
    "OSVersion" IN ('10.0.22631.4317', '10.0.26100.1')
    AND "DeviceId" IN (
      UNHEX('0f8fad5bd9cb469fa16570867728950e'),
      UNHEX('7c9e6679742540de944be07fc1f90ae7')
    )
    AND "EventCount" IN (1, 2)
  )
ORDER BY
  "DeviceId" ASC
-- spark
SELECT
  SUBSTRING(LOWER(HEX(`DeviceId`)), 1, 8) || '-' || SUBSTRING(LOWER(HEX(`DeviceId`)), 9, 4) || '-' || SUBSTRING(LOWER(HEX(`DeviceId`)), 13, 4) || '-' || SUBSTRING(LOWER(HEX(`DeviceId`)), 17, 4) || '-' || SUBSTRING(LOWER(HEX(`DeviceId`)), 21, 12) AS `DeviceId`
FROM `failure_events`
WHERE
  `IhvPartner` = 'Contoso'
  AND `FailureDate` >= CAST('2024-05-01' AS DATE)
  AND `FailureDate` < CAST('2024-05-08' AS DATE)
  AND (
    `OSVersion` IN ('10.0.22631.4317', '10.0.26100.1')
    AND `DeviceId` IN (
      UNHEX('0f8fad5bd9cb469fa16570867728950e'),
      UNHEX('7c9e6679742540de944be07fc1f90ae7')
    )
    AND `EventCount` IN (1, 2)
  )
ORDER BY
  `DeviceId` ASC NULLS LAST
-- postgres
SELECT
  SUBSTRING(LOWER(HEX("DeviceId")) FROM 1 FOR 8) || '-' || SUBSTRING(LOWER(HEX("DeviceId")) FROM 9 FOR 4) || '-' || SUBSTRING(LOWER(HEX("DeviceId")) FROM 13 FOR 4) || '-' || SUBSTRING(LOWER(HEX("DeviceId")) FROM 17 FOR 4) || '-' || SUBSTRING(LOWER(HEX("DeviceId")) FROM 21 FOR 12) AS "DeviceId"
FROM "failure_events"
WHERE
  "IhvPartner" = 'Contoso'
  AND "FailureDate" >= CAST('2024-05-01' AS DATE)
  AND "FailureDate" < CAST('2024-05-08' AS DATE)
  AND (
    "OSVersion" IN ('10.0.22631.4317', '10.0.26100.1')
    AND "DeviceId" IN (
      UNHEX('0f8fad5bd9cb469fa16570867728950e'),
      UNHEX('7c9e6679742540de944be07fc1f90ae7')
    )
    AND "EventCount" IN (1, 2)
  )
ORDER BY
  "DeviceId" ASC
