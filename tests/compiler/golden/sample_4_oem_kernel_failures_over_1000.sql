-- duckdb
SELECT
  "FailureName" AS "FailureName",
  SUBSTRING(LOWER(HEX("FailureHash")), 1, 8) || '-' || SUBSTRING(LOWER(HEX("FailureHash")), 9, 4) || '-' || SUBSTRING(LOWER(HEX("FailureHash")), 13, 4) || '-' || SUBSTRING(LOWER(HEX("FailureHash")), 17, 4) || '-' || SUBSTRING(LOWER(HEX("FailureHash")), 21, 12) AS "FailureHash",
  CAST(SUM("EventCount") AS BIGINT) AS "SUM(EventCount)"
FROM "failure_events_by_oem"
WHERE
  "OemPartner" = 'Fabrikam'
  AND "FailureDate" >= CAST('2024-05-01' AS DATE)
  AND "FailureDate" < CAST('2024-05-08' AS DATE)
  AND "EventType" = 'Kernel'
GROUP BY
  "FailureName",
  "FailureHash"
HAVING
  SUM("EventCount") > 1000
ORDER BY
  "FailureName" ASC,
  "FailureHash" ASC
-- spark
SELECT
  `FailureName` AS `FailureName`,
  SUBSTRING(LOWER(HEX(`FailureHash`)), 1, 8) || '-' || SUBSTRING(LOWER(HEX(`FailureHash`)), 9, 4) || '-' || SUBSTRING(LOWER(HEX(`FailureHash`)), 13, 4) || '-' || SUBSTRING(LOWER(HEX(`FailureHash`)), 17, 4) || '-' || SUBSTRING(LOWER(HEX(`FailureHash`)), 21, 12) AS `FailureHash`,
  CAST(SUM(`EventCount`) AS BIGINT) AS `SUM(EventCount)`
FROM `failure_events_by_oem`
WHERE
  `OemPartner` = 'Fabrikam'
  AND `FailureDate` >= CAST('2024-05-01' AS DATE)
  AND `FailureDate` < CAST('2024-05-08' AS DATE)
  AND `EventType` = 'Kernel'
GROUP BY
  `FailureName`,
  `FailureHash`
HAVING
  SUM(`EventCount`) > 1000
ORDER BY
  `FailureName` ASC NULLS LAST,
  `FailureHash` ASC NULLS LAST
-- postgres
SELECT
  "FailureName" AS "FailureName",
  SUBSTRING(LOWER(HEX("FailureHash")) FROM 1 FOR 8) || '-' || SUBSTRING(LOWER(HEX("FailureHash")) FROM 9 FOR 4) || '-' || SUBSTRING(LOWER(HEX("FailureHash")) FROM 13 FOR 4) || '-' || SUBSTRING(LOWER(HEX("FailureHash")) FROM 17 FOR 4) || '-' || SUBSTRING(LOWER(HEX("FailureHash")) FROM 21 FOR 12) AS "FailureHash",
  CAST(SUM("EventCount") AS BIGINT) AS "SUM(EventCount)"
FROM "failure_events_by_oem"
WHERE
  "OemPartner" = 'Fabrikam'
  AND "FailureDate" >= CAST('2024-05-01' AS DATE)
  AND "FailureDate" < CAST('2024-05-08' AS DATE)
  AND "EventType" = 'Kernel'
GROUP BY
  "FailureName",
  "FailureHash"
HAVING
  SUM("EventCount") > 1000
ORDER BY
  "FailureName" ASC,
  "FailureHash" ASC
