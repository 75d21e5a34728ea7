-- duckdb
SELECT
  "FailureName" AS "FailureName",
  "FailureHash" AS "FailureHash",
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
  `FailureHash` AS `FailureHash`,
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
  "FailureHash" AS "FailureHash",
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
