-- duckdb
SELECT
  "FailureName" AS "FailureName",
  "FailureHash" AS "FailureHash",
  SUM("EventCount") AS "SUM(EventCount)"
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
-- spark
SELECT
  `FailureName` AS `FailureName`,
  `FailureHash` AS `FailureHash`,
  SUM(`EventCount`) AS `SUM(EventCount)`
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
-- postgres
SELECT
  "FailureName" AS "FailureName",
  "FailureHash" AS "FailureHash",
  SUM("EventCount") AS "SUM(EventCount)"
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
