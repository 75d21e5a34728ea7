-- duckdb
SELECT
  "DriverName" AS "DriverName",
  "DriverVersion" AS "DriverVersion",
  CAST(SUM("EventCount") AS BIGINT) AS "SUM(EventCount)",
  AVG("EventCount") AS "AVG(EventCount)"
FROM "failure_events"
WHERE
  "IhvPartner" = 'Contoso'
  AND "FailureDate" >= CAST('2024-05-01' AS DATE)
  AND "FailureDate" < CAST('2024-05-08' AS DATE)
GROUP BY
  "DriverName",
  "DriverVersion"
HAVING
  (
    SUM("EventCount") > 1000 AND AVG("EventCount") <= 2.5
  )
  AND (
    "DriverName" LIKE 'nv%' OR "DriverName" = 'igdkmd64.sys'
  )
ORDER BY
  "SUM(EventCount)" DESC,
  "DriverName" ASC,
  "DriverVersion" ASC
-- spark
SELECT
  `DriverName` AS `DriverName`,
  `DriverVersion` AS `DriverVersion`,
  CAST(SUM(`EventCount`) AS BIGINT) AS `SUM(EventCount)`,
  AVG(`EventCount`) AS `AVG(EventCount)`
FROM `failure_events`
WHERE
  `IhvPartner` = 'Contoso'
  AND `FailureDate` >= CAST('2024-05-01' AS DATE)
  AND `FailureDate` < CAST('2024-05-08' AS DATE)
GROUP BY
  `DriverName`,
  `DriverVersion`
HAVING
  (
    SUM(`EventCount`) > 1000 AND AVG(`EventCount`) <= 2.5
  )
  AND (
    `DriverName` LIKE 'nv%' OR `DriverName` = 'igdkmd64.sys'
  )
ORDER BY
  `SUM(EventCount)` DESC,
  `DriverName` ASC NULLS LAST,
  `DriverVersion` ASC NULLS LAST
-- postgres
SELECT
  "DriverName" AS "DriverName",
  "DriverVersion" AS "DriverVersion",
  CAST(SUM("EventCount") AS BIGINT) AS "SUM(EventCount)",
  AVG("EventCount") AS "AVG(EventCount)"
FROM "failure_events"
WHERE
  "IhvPartner" = 'Contoso'
  AND "FailureDate" >= CAST('2024-05-01' AS DATE)
  AND "FailureDate" < CAST('2024-05-08' AS DATE)
GROUP BY
  "DriverName",
  "DriverVersion"
HAVING
  (
    SUM("EventCount") > 1000 AND AVG("EventCount") <= 2.5
  )
  AND (
    "DriverName" LIKE 'nv%' OR "DriverName" = 'igdkmd64.sys'
  )
ORDER BY
  "SUM(EventCount)" DESC NULLS LAST,
  "DriverName" ASC,
  "DriverVersion" ASC
