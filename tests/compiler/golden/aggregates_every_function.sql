-- duckdb
SELECT
  "DriverName" AS "DriverName",
  CAST(SUM("EventCount") AS BIGINT) AS "SUM(EventCount)",
  AVG("EventCount") AS "AVG(EventCount)",
  COUNT("FailureHash") AS "COUNT(FailureHash)",
  COUNT(DISTINCT "DeviceId") AS "DCOUNT(DeviceId)",
  MAX("FailureDateTime") AS "MAX(FailureDateTime)",
  MIN("FailureDate") AS "MIN(FailureDate)"
FROM "failure_events"
WHERE
  "IhvPartner" = 'Contoso'
  AND "FailureDate" >= CAST('2024-05-01' AS DATE)
  AND "FailureDate" < CAST('2024-05-08' AS DATE)
GROUP BY
  "DriverName"
ORDER BY
  "DriverName" ASC
-- spark
SELECT
  `DriverName` AS `DriverName`,
  CAST(SUM(`EventCount`) AS BIGINT) AS `SUM(EventCount)`,
  AVG(`EventCount`) AS `AVG(EventCount)`,
  COUNT(`FailureHash`) AS `COUNT(FailureHash)`,
  COUNT(DISTINCT `DeviceId`) AS `DCOUNT(DeviceId)`,
  MAX(`FailureDateTime`) AS `MAX(FailureDateTime)`,
  MIN(`FailureDate`) AS `MIN(FailureDate)`
FROM `failure_events`
WHERE
  `IhvPartner` = 'Contoso'
  AND `FailureDate` >= CAST('2024-05-01' AS DATE)
  AND `FailureDate` < CAST('2024-05-08' AS DATE)
GROUP BY
  `DriverName`
ORDER BY
  `DriverName` ASC NULLS LAST
-- postgres
SELECT
  "DriverName" AS "DriverName",
  CAST(SUM("EventCount") AS BIGINT) AS "SUM(EventCount)",
  AVG("EventCount") AS "AVG(EventCount)",
  COUNT("FailureHash") AS "COUNT(FailureHash)",
  COUNT(DISTINCT "DeviceId") AS "DCOUNT(DeviceId)",
  MAX("FailureDateTime") AS "MAX(FailureDateTime)",
  MIN("FailureDate") AS "MIN(FailureDate)"
FROM "failure_events"
WHERE
  "IhvPartner" = 'Contoso'
  AND "FailureDate" >= CAST('2024-05-01' AS DATE)
  AND "FailureDate" < CAST('2024-05-08' AS DATE)
GROUP BY
  "DriverName"
ORDER BY
  "DriverName" ASC
