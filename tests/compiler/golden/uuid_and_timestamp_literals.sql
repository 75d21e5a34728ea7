-- duckdb
SELECT
  SUBSTRING(LOWER(HEX("FailureHash")), 1, 8) || '-' || SUBSTRING(LOWER(HEX("FailureHash")), 9, 4) || '-' || SUBSTRING(LOWER(HEX("FailureHash")), 13, 4) || '-' || SUBSTRING(LOWER(HEX("FailureHash")), 17, 4) || '-' || SUBSTRING(LOWER(HEX("FailureHash")), 21, 12) AS "FailureHash"
FROM "failure_events_by_oem"
WHERE
  "OemPartner" = 'Fabrikam'
  AND "FailureDate" >= CAST('2024-05-01' AS DATE)
  AND "FailureDate" < CAST('2024-05-08' AS DATE)
  AND (
    "FailureHash" = UNHEX('0f8fad5bd9cb469fa16570867728950e')
    AND "CabExpirationTime" >= CAST('2024-05-01 00:00:00' AS TIMESTAMP)
  )
ORDER BY
  "FailureHash" ASC
-- spark
SELECT
  SUBSTRING(LOWER(HEX(`FailureHash`)), 1, 8) || '-' || SUBSTRING(LOWER(HEX(`FailureHash`)), 9, 4) || '-' || SUBSTRING(LOWER(HEX(`FailureHash`)), 13, 4) || '-' || SUBSTRING(LOWER(HEX(`FailureHash`)), 17, 4) || '-' || SUBSTRING(LOWER(HEX(`FailureHash`)), 21, 12) AS `FailureHash`
FROM `failure_events_by_oem`
WHERE
  `OemPartner` = 'Fabrikam'
  AND `FailureDate` >= CAST('2024-05-01' AS DATE)
  AND `FailureDate` < CAST('2024-05-08' AS DATE)
  AND (
    `FailureHash` = UNHEX('0f8fad5bd9cb469fa16570867728950e')
    AND `CabExpirationTime` >= CAST('2024-05-01 00:00:00' AS TIMESTAMP)
  )
ORDER BY
  `FailureHash` ASC NULLS LAST
-- postgres
SELECT
  SUBSTRING(LOWER(HEX("FailureHash")) FROM 1 FOR 8) || '-' || SUBSTRING(LOWER(HEX("FailureHash")) FROM 9 FOR 4) || '-' || SUBSTRING(LOWER(HEX("FailureHash")) FROM 13 FOR 4) || '-' || SUBSTRING(LOWER(HEX("FailureHash")) FROM 17 FOR 4) || '-' || SUBSTRING(LOWER(HEX("FailureHash")) FROM 21 FOR 12) AS "FailureHash"
FROM "failure_events_by_oem"
WHERE
  "OemPartner" = 'Fabrikam'
  AND "FailureDate" >= CAST('2024-05-01' AS DATE)
  AND "FailureDate" < CAST('2024-05-08' AS DATE)
  AND (
    "FailureHash" = UNHEX('0f8fad5bd9cb469fa16570867728950e')
    AND "CabExpirationTime" >= CAST('2024-05-01 00:00:00' AS TIMESTAMP)
  )
ORDER BY
  "FailureHash" ASC
