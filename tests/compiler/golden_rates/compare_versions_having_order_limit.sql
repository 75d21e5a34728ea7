-- duckdb
WITH "failing" AS (
  SELECT
    "DriverName" AS "DriverName",
    "DriverVersion" AS "DriverVersion",
    COUNT(
      DISTINCT CASE
        WHEN "DeviceId" IS NULL
        THEN NULL
        WHEN "FailureDate" IS NULL
        THEN NULL
        ELSE ("DeviceId", "FailureDate")
      END
    ) AS "FailingDeviceDays",
    CAST(SUM("EventCount") AS BIGINT) AS "SUM(EventCount)"
  FROM "failure_events"
  WHERE
    "IhvPartner" = 'Contoso'
    AND "FailureDate" >= CAST('2024-05-01' AS DATE)
    AND "FailureDate" < CAST('2024-05-08' AS DATE)
    AND (
      "DriverName" IN ('a.sys', 'b.sys') AND "Market" = 'US'
    )
  GROUP BY
    "DriverName",
    "DriverVersion"
), "installs_daily" AS (
  SELECT
    "DriverName" AS "DriverName",
    "DriverVersion" AS "DriverVersion",
    "InstallDate" AS "Day",
    CAST(SUM("DeviceCount") AS BIGINT) AS "DailyDevices"
  FROM "install_base"
  WHERE
    "IhvPartner" = 'Contoso'
    AND "InstallDate" >= CAST('2024-05-01' AS DATE)
    AND "InstallDate" < CAST('2024-05-08' AS DATE)
    AND "DriverName" IN ('a.sys', 'b.sys')
  GROUP BY
    "DriverName",
    "DriverVersion",
    "InstallDate"
), "installs" AS (
  SELECT
    "DriverName" AS "DriverName",
    "DriverVersion" AS "DriverVersion",
    CAST(SUM("DailyDevices") AS BIGINT) AS "InstalledDeviceDays"
  FROM "installs_daily"
  GROUP BY
    "DriverName",
    "DriverVersion"
), "counted" AS (
  SELECT
    COALESCE("f"."DriverName", "i"."DriverName") AS "DriverName",
    COALESCE("f"."DriverVersion", "i"."DriverVersion") AS "DriverVersion",
    COALESCE("f"."FailingDeviceDays", 0) AS "FailingDeviceDays",
    COALESCE("i"."InstalledDeviceDays", 0) AS "InstalledDeviceDays",
    "f"."SUM(EventCount)" AS "SUM(EventCount)",
    CAST(CASE
      WHEN COALESCE("i"."InstalledDeviceDays", 0) > 0
      THEN GREATEST(COALESCE("i"."InstalledDeviceDays", 0), COALESCE("f"."FailingDeviceDays", 0))
    END AS DOUBLE) AS "_n",
    CAST(COALESCE("f"."FailingDeviceDays", 0) AS DOUBLE) AS "_k"
  FROM "failing" AS "f"
  FULL OUTER JOIN "installs" AS "i"
    ON "f"."DriverName" = "i"."DriverName" AND "f"."DriverVersion" = "i"."DriverVersion"
), "measured" AS (
  SELECT
    "DriverName" AS "DriverName",
    "DriverVersion" AS "DriverVersion",
    "FailingDeviceDays" AS "FailingDeviceDays",
    "InstalledDeviceDays" AS "InstalledDeviceDays",
    "SUM(EventCount)" AS "SUM(EventCount)",
    "FailureRate" AS "FailureRate",
    CASE
      WHEN "_n" IS NULL
      THEN NULL
      WHEN "_low" < CAST('0.0' AS DOUBLE) OR "_k" = CAST('0.0' AS DOUBLE)
      THEN CAST('0.0' AS DOUBLE)
      ELSE "_low"
    END AS "FailureRateLow",
    CASE
      WHEN "_n" IS NULL
      THEN NULL
      WHEN "_high" > CAST('1.0' AS DOUBLE) OR "_k" = "_n"
      THEN CAST('1.0' AS DOUBLE)
      ELSE "_high"
    END AS "FailureRateHigh"
  FROM (
    SELECT
      "DriverName" AS "DriverName",
      "DriverVersion" AS "DriverVersion",
      "FailingDeviceDays" AS "FailingDeviceDays",
      "InstalledDeviceDays" AS "InstalledDeviceDays",
      "SUM(EventCount)" AS "SUM(EventCount)",
      "_k" / "_n" AS "FailureRate",
      (
        "_k" / "_n" + CAST('3.8414588206941254' AS DOUBLE) / (
          CAST('2.0' AS DOUBLE) * "_n"
        ) - (
          CAST('1.959963984540054' AS DOUBLE) * SQRT(
            (
              (
                "_k" / "_n"
              ) * (
                CAST('1.0' AS DOUBLE) - "_k" / "_n"
              )
            ) / "_n" + CAST('3.8414588206941254' AS DOUBLE) / (
              (
                CAST('4.0' AS DOUBLE) * "_n"
              ) * "_n"
            )
          )
        )
      ) / (
        CAST('1.0' AS DOUBLE) + CAST('3.8414588206941254' AS DOUBLE) / "_n"
      ) AS "_low",
      (
        "_k" / "_n" + CAST('3.8414588206941254' AS DOUBLE) / (
          CAST('2.0' AS DOUBLE) * "_n"
        ) + (
          CAST('1.959963984540054' AS DOUBLE) * SQRT(
            (
              (
                "_k" / "_n"
              ) * (
                CAST('1.0' AS DOUBLE) - "_k" / "_n"
              )
            ) / "_n" + CAST('3.8414588206941254' AS DOUBLE) / (
              (
                CAST('4.0' AS DOUBLE) * "_n"
              ) * "_n"
            )
          )
        )
      ) / (
        CAST('1.0' AS DOUBLE) + CAST('3.8414588206941254' AS DOUBLE) / "_n"
      ) AS "_high",
      "_k" AS "_k",
      "_n" AS "_n"
    FROM "counted"
  ) AS "wilson"
), "compared" AS (
  SELECT
    "DriverName" AS "DriverName",
    "DriverVersion" AS "DriverVersion",
    "FailingDeviceDays" AS "FailingDeviceDays",
    "InstalledDeviceDays" AS "InstalledDeviceDays",
    "FailureRate" AS "FailureRate",
    "FailureRateLow" AS "FailureRateLow",
    "FailureRateHigh" AS "FailureRateHigh",
    "SUM(EventCount)" AS "SUM(EventCount)",
    "PreviousVersion" AS "PreviousVersion",
    "PreviousFailingDeviceDays" AS "PreviousFailingDeviceDays",
    "PreviousInstalledDeviceDays" AS "PreviousInstalledDeviceDays",
    "PreviousFailureRate" AS "PreviousFailureRate",
    "PreviousFailureRateLow" AS "PreviousFailureRateLow",
    "PreviousFailureRateHigh" AS "PreviousFailureRateHigh",
    "FailureRate" / NULLIF("PreviousFailureRate", CAST('0.0' AS DOUBLE)) AS "RateRatio",
    COALESCE("FailureRateLow" > "PreviousFailureRateHigh", FALSE) AS "Regressed"
  FROM (
    SELECT
      "DriverName" AS "DriverName",
      "DriverVersion" AS "DriverVersion",
      "FailingDeviceDays" AS "FailingDeviceDays",
      "InstalledDeviceDays" AS "InstalledDeviceDays",
      "FailureRate" AS "FailureRate",
      "FailureRateLow" AS "FailureRateLow",
      "FailureRateHigh" AS "FailureRateHigh",
      "SUM(EventCount)" AS "SUM(EventCount)",
      LAG("DriverVersion") OVER (
        PARTITION BY "DriverName", "DriverVersion" IS NULL
        ORDER BY CAST(NULLIF(REGEXP_EXTRACT("DriverVersion", '^([0-9]{1,18})([^0-9]|$)', 1), '') AS BIGINT) ASC NULLS FIRST, CAST(NULLIF(REGEXP_EXTRACT("DriverVersion", '^[0-9]+[.]([0-9]{1,18})([^0-9]|$)', 1), '') AS BIGINT) ASC NULLS FIRST, CAST(NULLIF(
          REGEXP_EXTRACT("DriverVersion", '^[0-9]+[.][0-9]+[.]([0-9]{1,18})([^0-9]|$)', 1),
          ''
        ) AS BIGINT) ASC NULLS FIRST, CAST(NULLIF(
          REGEXP_EXTRACT("DriverVersion", '^[0-9]+[.][0-9]+[.][0-9]+[.]([0-9]{1,18})([^0-9]|$)', 1),
          ''
        ) AS BIGINT) ASC NULLS FIRST, "DriverVersion" ASC NULLS FIRST
      ) AS "PreviousVersion",
      LAG("FailingDeviceDays") OVER (
        PARTITION BY "DriverName", "DriverVersion" IS NULL
        ORDER BY CAST(NULLIF(REGEXP_EXTRACT("DriverVersion", '^([0-9]{1,18})([^0-9]|$)', 1), '') AS BIGINT) ASC NULLS FIRST, CAST(NULLIF(REGEXP_EXTRACT("DriverVersion", '^[0-9]+[.]([0-9]{1,18})([^0-9]|$)', 1), '') AS BIGINT) ASC NULLS FIRST, CAST(NULLIF(
          REGEXP_EXTRACT("DriverVersion", '^[0-9]+[.][0-9]+[.]([0-9]{1,18})([^0-9]|$)', 1),
          ''
        ) AS BIGINT) ASC NULLS FIRST, CAST(NULLIF(
          REGEXP_EXTRACT("DriverVersion", '^[0-9]+[.][0-9]+[.][0-9]+[.]([0-9]{1,18})([^0-9]|$)', 1),
          ''
        ) AS BIGINT) ASC NULLS FIRST, "DriverVersion" ASC NULLS FIRST
      ) AS "PreviousFailingDeviceDays",
      LAG("InstalledDeviceDays") OVER (
        PARTITION BY "DriverName", "DriverVersion" IS NULL
        ORDER BY CAST(NULLIF(REGEXP_EXTRACT("DriverVersion", '^([0-9]{1,18})([^0-9]|$)', 1), '') AS BIGINT) ASC NULLS FIRST, CAST(NULLIF(REGEXP_EXTRACT("DriverVersion", '^[0-9]+[.]([0-9]{1,18})([^0-9]|$)', 1), '') AS BIGINT) ASC NULLS FIRST, CAST(NULLIF(
          REGEXP_EXTRACT("DriverVersion", '^[0-9]+[.][0-9]+[.]([0-9]{1,18})([^0-9]|$)', 1),
          ''
        ) AS BIGINT) ASC NULLS FIRST, CAST(NULLIF(
          REGEXP_EXTRACT("DriverVersion", '^[0-9]+[.][0-9]+[.][0-9]+[.]([0-9]{1,18})([^0-9]|$)', 1),
          ''
        ) AS BIGINT) ASC NULLS FIRST, "DriverVersion" ASC NULLS FIRST
      ) AS "PreviousInstalledDeviceDays",
      LAG("FailureRate") OVER (
        PARTITION BY "DriverName", "DriverVersion" IS NULL
        ORDER BY CAST(NULLIF(REGEXP_EXTRACT("DriverVersion", '^([0-9]{1,18})([^0-9]|$)', 1), '') AS BIGINT) ASC NULLS FIRST, CAST(NULLIF(REGEXP_EXTRACT("DriverVersion", '^[0-9]+[.]([0-9]{1,18})([^0-9]|$)', 1), '') AS BIGINT) ASC NULLS FIRST, CAST(NULLIF(
          REGEXP_EXTRACT("DriverVersion", '^[0-9]+[.][0-9]+[.]([0-9]{1,18})([^0-9]|$)', 1),
          ''
        ) AS BIGINT) ASC NULLS FIRST, CAST(NULLIF(
          REGEXP_EXTRACT("DriverVersion", '^[0-9]+[.][0-9]+[.][0-9]+[.]([0-9]{1,18})([^0-9]|$)', 1),
          ''
        ) AS BIGINT) ASC NULLS FIRST, "DriverVersion" ASC NULLS FIRST
      ) AS "PreviousFailureRate",
      LAG("FailureRateLow") OVER (
        PARTITION BY "DriverName", "DriverVersion" IS NULL
        ORDER BY CAST(NULLIF(REGEXP_EXTRACT("DriverVersion", '^([0-9]{1,18})([^0-9]|$)', 1), '') AS BIGINT) ASC NULLS FIRST, CAST(NULLIF(REGEXP_EXTRACT("DriverVersion", '^[0-9]+[.]([0-9]{1,18})([^0-9]|$)', 1), '') AS BIGINT) ASC NULLS FIRST, CAST(NULLIF(
          REGEXP_EXTRACT("DriverVersion", '^[0-9]+[.][0-9]+[.]([0-9]{1,18})([^0-9]|$)', 1),
          ''
        ) AS BIGINT) ASC NULLS FIRST, CAST(NULLIF(
          REGEXP_EXTRACT("DriverVersion", '^[0-9]+[.][0-9]+[.][0-9]+[.]([0-9]{1,18})([^0-9]|$)', 1),
          ''
        ) AS BIGINT) ASC NULLS FIRST, "DriverVersion" ASC NULLS FIRST
      ) AS "PreviousFailureRateLow",
      LAG("FailureRateHigh") OVER (
        PARTITION BY "DriverName", "DriverVersion" IS NULL
        ORDER BY CAST(NULLIF(REGEXP_EXTRACT("DriverVersion", '^([0-9]{1,18})([^0-9]|$)', 1), '') AS BIGINT) ASC NULLS FIRST, CAST(NULLIF(REGEXP_EXTRACT("DriverVersion", '^[0-9]+[.]([0-9]{1,18})([^0-9]|$)', 1), '') AS BIGINT) ASC NULLS FIRST, CAST(NULLIF(
          REGEXP_EXTRACT("DriverVersion", '^[0-9]+[.][0-9]+[.]([0-9]{1,18})([^0-9]|$)', 1),
          ''
        ) AS BIGINT) ASC NULLS FIRST, CAST(NULLIF(
          REGEXP_EXTRACT("DriverVersion", '^[0-9]+[.][0-9]+[.][0-9]+[.]([0-9]{1,18})([^0-9]|$)', 1),
          ''
        ) AS BIGINT) ASC NULLS FIRST, "DriverVersion" ASC NULLS FIRST
      ) AS "PreviousFailureRateHigh"
    FROM "measured"
  ) AS "lagged"
)
SELECT
  CAST(42 AS BIGINT) AS "ReportId",
  "DriverName" AS "DriverName",
  "DriverVersion" AS "DriverVersion",
  "SUM(EventCount)" AS "SUM(EventCount)",
  "FailingDeviceDays" AS "FailingDeviceDays",
  "InstalledDeviceDays" AS "InstalledDeviceDays",
  "FailureRate" AS "FailureRate",
  "FailureRateLow" AS "FailureRateLow",
  "FailureRateHigh" AS "FailureRateHigh",
  "PreviousVersion" AS "PreviousVersion",
  "PreviousFailingDeviceDays" AS "PreviousFailingDeviceDays",
  "PreviousInstalledDeviceDays" AS "PreviousInstalledDeviceDays",
  "PreviousFailureRate" AS "PreviousFailureRate",
  "PreviousFailureRateLow" AS "PreviousFailureRateLow",
  "PreviousFailureRateHigh" AS "PreviousFailureRateHigh",
  "RateRatio" AS "RateRatio",
  "Regressed" AS "Regressed"
FROM "compared"
WHERE
  "Regressed" = TRUE
ORDER BY
  "RateRatio" DESC,
  "DriverName" ASC,
  "DriverVersion" ASC
LIMIT 10
-- spark
WITH `failing` AS (
  SELECT
    `DriverName` AS `DriverName`,
    `DriverVersion` AS `DriverVersion`,
    COUNT(DISTINCT `DeviceId`, `FailureDate`) AS `FailingDeviceDays`,
    CAST(SUM(`EventCount`) AS BIGINT) AS `SUM(EventCount)`
  FROM `failure_events`
  WHERE
    `IhvPartner` = 'Contoso'
    AND `FailureDate` >= CAST('2024-05-01' AS DATE)
    AND `FailureDate` < CAST('2024-05-08' AS DATE)
    AND (
      `DriverName` IN ('a.sys', 'b.sys') AND `Market` = 'US'
    )
  GROUP BY
    `DriverName`,
    `DriverVersion`
), `installs_daily` AS (
  SELECT
    `DriverName` AS `DriverName`,
    `DriverVersion` AS `DriverVersion`,
    `InstallDate` AS `Day`,
    CAST(SUM(`DeviceCount`) AS BIGINT) AS `DailyDevices`
  FROM `install_base`
  WHERE
    `IhvPartner` = 'Contoso'
    AND `InstallDate` >= CAST('2024-05-01' AS DATE)
    AND `InstallDate` < CAST('2024-05-08' AS DATE)
    AND `DriverName` IN ('a.sys', 'b.sys')
  GROUP BY
    `DriverName`,
    `DriverVersion`,
    `InstallDate`
), `installs` AS (
  SELECT
    `DriverName` AS `DriverName`,
    `DriverVersion` AS `DriverVersion`,
    CAST(SUM(`DailyDevices`) AS BIGINT) AS `InstalledDeviceDays`
  FROM `installs_daily`
  GROUP BY
    `DriverName`,
    `DriverVersion`
), `counted` AS (
  SELECT
    COALESCE(`f`.`DriverName`, `i`.`DriverName`) AS `DriverName`,
    COALESCE(`f`.`DriverVersion`, `i`.`DriverVersion`) AS `DriverVersion`,
    COALESCE(`f`.`FailingDeviceDays`, 0) AS `FailingDeviceDays`,
    COALESCE(`i`.`InstalledDeviceDays`, 0) AS `InstalledDeviceDays`,
    `f`.`SUM(EventCount)` AS `SUM(EventCount)`,
    CAST(CASE
      WHEN COALESCE(`i`.`InstalledDeviceDays`, 0) > 0
      THEN GREATEST(COALESCE(`i`.`InstalledDeviceDays`, 0), COALESCE(`f`.`FailingDeviceDays`, 0))
    END AS DOUBLE) AS `_n`,
    CAST(COALESCE(`f`.`FailingDeviceDays`, 0) AS DOUBLE) AS `_k`
  FROM `failing` AS `f`
  FULL OUTER JOIN `installs` AS `i`
    ON `f`.`DriverName` = `i`.`DriverName` AND `f`.`DriverVersion` = `i`.`DriverVersion`
), `measured` AS (
  SELECT
    `DriverName` AS `DriverName`,
    `DriverVersion` AS `DriverVersion`,
    `FailingDeviceDays` AS `FailingDeviceDays`,
    `InstalledDeviceDays` AS `InstalledDeviceDays`,
    `SUM(EventCount)` AS `SUM(EventCount)`,
    `FailureRate` AS `FailureRate`,
    CASE
      WHEN `_n` IS NULL
      THEN NULL
      WHEN `_low` < CAST('0.0' AS DOUBLE) OR `_k` = CAST('0.0' AS DOUBLE)
      THEN CAST('0.0' AS DOUBLE)
      ELSE `_low`
    END AS `FailureRateLow`,
    CASE
      WHEN `_n` IS NULL
      THEN NULL
      WHEN `_high` > CAST('1.0' AS DOUBLE) OR `_k` = `_n`
      THEN CAST('1.0' AS DOUBLE)
      ELSE `_high`
    END AS `FailureRateHigh`
  FROM (
    SELECT
      `DriverName` AS `DriverName`,
      `DriverVersion` AS `DriverVersion`,
      `FailingDeviceDays` AS `FailingDeviceDays`,
      `InstalledDeviceDays` AS `InstalledDeviceDays`,
      `SUM(EventCount)` AS `SUM(EventCount)`,
      `_k` / `_n` AS `FailureRate`,
      (
        `_k` / `_n` + CAST('3.8414588206941254' AS DOUBLE) / (
          CAST('2.0' AS DOUBLE) * `_n`
        ) - (
          CAST('1.959963984540054' AS DOUBLE) * SQRT(
            (
              (
                `_k` / `_n`
              ) * (
                CAST('1.0' AS DOUBLE) - `_k` / `_n`
              )
            ) / `_n` + CAST('3.8414588206941254' AS DOUBLE) / (
              (
                CAST('4.0' AS DOUBLE) * `_n`
              ) * `_n`
            )
          )
        )
      ) / (
        CAST('1.0' AS DOUBLE) + CAST('3.8414588206941254' AS DOUBLE) / `_n`
      ) AS `_low`,
      (
        `_k` / `_n` + CAST('3.8414588206941254' AS DOUBLE) / (
          CAST('2.0' AS DOUBLE) * `_n`
        ) + (
          CAST('1.959963984540054' AS DOUBLE) * SQRT(
            (
              (
                `_k` / `_n`
              ) * (
                CAST('1.0' AS DOUBLE) - `_k` / `_n`
              )
            ) / `_n` + CAST('3.8414588206941254' AS DOUBLE) / (
              (
                CAST('4.0' AS DOUBLE) * `_n`
              ) * `_n`
            )
          )
        )
      ) / (
        CAST('1.0' AS DOUBLE) + CAST('3.8414588206941254' AS DOUBLE) / `_n`
      ) AS `_high`,
      `_k` AS `_k`,
      `_n` AS `_n`
    FROM `counted`
  ) AS `wilson`
), `compared` AS (
  SELECT
    `DriverName` AS `DriverName`,
    `DriverVersion` AS `DriverVersion`,
    `FailingDeviceDays` AS `FailingDeviceDays`,
    `InstalledDeviceDays` AS `InstalledDeviceDays`,
    `FailureRate` AS `FailureRate`,
    `FailureRateLow` AS `FailureRateLow`,
    `FailureRateHigh` AS `FailureRateHigh`,
    `SUM(EventCount)` AS `SUM(EventCount)`,
    `PreviousVersion` AS `PreviousVersion`,
    `PreviousFailingDeviceDays` AS `PreviousFailingDeviceDays`,
    `PreviousInstalledDeviceDays` AS `PreviousInstalledDeviceDays`,
    `PreviousFailureRate` AS `PreviousFailureRate`,
    `PreviousFailureRateLow` AS `PreviousFailureRateLow`,
    `PreviousFailureRateHigh` AS `PreviousFailureRateHigh`,
    `FailureRate` / NULLIF(`PreviousFailureRate`, CAST('0.0' AS DOUBLE)) AS `RateRatio`,
    COALESCE(`FailureRateLow` > `PreviousFailureRateHigh`, FALSE) AS `Regressed`
  FROM (
    SELECT
      `DriverName` AS `DriverName`,
      `DriverVersion` AS `DriverVersion`,
      `FailingDeviceDays` AS `FailingDeviceDays`,
      `InstalledDeviceDays` AS `InstalledDeviceDays`,
      `FailureRate` AS `FailureRate`,
      `FailureRateLow` AS `FailureRateLow`,
      `FailureRateHigh` AS `FailureRateHigh`,
      `SUM(EventCount)` AS `SUM(EventCount)`,
      LAG(`DriverVersion`) OVER (
        PARTITION BY `DriverName`, `DriverVersion` IS NULL
        ORDER BY CAST(NULLIF(REGEXP_EXTRACT(`DriverVersion`, '^([0-9]{1,18})([^0-9]|$)'), '') AS BIGINT) ASC, CAST(NULLIF(REGEXP_EXTRACT(`DriverVersion`, '^[0-9]+[.]([0-9]{1,18})([^0-9]|$)'), '') AS BIGINT) ASC, CAST(NULLIF(REGEXP_EXTRACT(`DriverVersion`, '^[0-9]+[.][0-9]+[.]([0-9]{1,18})([^0-9]|$)'), '') AS BIGINT) ASC, CAST(NULLIF(
          REGEXP_EXTRACT(`DriverVersion`, '^[0-9]+[.][0-9]+[.][0-9]+[.]([0-9]{1,18})([^0-9]|$)'),
          ''
        ) AS BIGINT) ASC, `DriverVersion` ASC
      ) AS `PreviousVersion`,
      LAG(`FailingDeviceDays`) OVER (
        PARTITION BY `DriverName`, `DriverVersion` IS NULL
        ORDER BY CAST(NULLIF(REGEXP_EXTRACT(`DriverVersion`, '^([0-9]{1,18})([^0-9]|$)'), '') AS BIGINT) ASC, CAST(NULLIF(REGEXP_EXTRACT(`DriverVersion`, '^[0-9]+[.]([0-9]{1,18})([^0-9]|$)'), '') AS BIGINT) ASC, CAST(NULLIF(REGEXP_EXTRACT(`DriverVersion`, '^[0-9]+[.][0-9]+[.]([0-9]{1,18})([^0-9]|$)'), '') AS BIGINT) ASC, CAST(NULLIF(
          REGEXP_EXTRACT(`DriverVersion`, '^[0-9]+[.][0-9]+[.][0-9]+[.]([0-9]{1,18})([^0-9]|$)'),
          ''
        ) AS BIGINT) ASC, `DriverVersion` ASC
      ) AS `PreviousFailingDeviceDays`,
      LAG(`InstalledDeviceDays`) OVER (
        PARTITION BY `DriverName`, `DriverVersion` IS NULL
        ORDER BY CAST(NULLIF(REGEXP_EXTRACT(`DriverVersion`, '^([0-9]{1,18})([^0-9]|$)'), '') AS BIGINT) ASC, CAST(NULLIF(REGEXP_EXTRACT(`DriverVersion`, '^[0-9]+[.]([0-9]{1,18})([^0-9]|$)'), '') AS BIGINT) ASC, CAST(NULLIF(REGEXP_EXTRACT(`DriverVersion`, '^[0-9]+[.][0-9]+[.]([0-9]{1,18})([^0-9]|$)'), '') AS BIGINT) ASC, CAST(NULLIF(
          REGEXP_EXTRACT(`DriverVersion`, '^[0-9]+[.][0-9]+[.][0-9]+[.]([0-9]{1,18})([^0-9]|$)'),
          ''
        ) AS BIGINT) ASC, `DriverVersion` ASC
      ) AS `PreviousInstalledDeviceDays`,
      LAG(`FailureRate`) OVER (
        PARTITION BY `DriverName`, `DriverVersion` IS NULL
        ORDER BY CAST(NULLIF(REGEXP_EXTRACT(`DriverVersion`, '^([0-9]{1,18})([^0-9]|$)'), '') AS BIGINT) ASC, CAST(NULLIF(REGEXP_EXTRACT(`DriverVersion`, '^[0-9]+[.]([0-9]{1,18})([^0-9]|$)'), '') AS BIGINT) ASC, CAST(NULLIF(REGEXP_EXTRACT(`DriverVersion`, '^[0-9]+[.][0-9]+[.]([0-9]{1,18})([^0-9]|$)'), '') AS BIGINT) ASC, CAST(NULLIF(
          REGEXP_EXTRACT(`DriverVersion`, '^[0-9]+[.][0-9]+[.][0-9]+[.]([0-9]{1,18})([^0-9]|$)'),
          ''
        ) AS BIGINT) ASC, `DriverVersion` ASC
      ) AS `PreviousFailureRate`,
      LAG(`FailureRateLow`) OVER (
        PARTITION BY `DriverName`, `DriverVersion` IS NULL
        ORDER BY CAST(NULLIF(REGEXP_EXTRACT(`DriverVersion`, '^([0-9]{1,18})([^0-9]|$)'), '') AS BIGINT) ASC, CAST(NULLIF(REGEXP_EXTRACT(`DriverVersion`, '^[0-9]+[.]([0-9]{1,18})([^0-9]|$)'), '') AS BIGINT) ASC, CAST(NULLIF(REGEXP_EXTRACT(`DriverVersion`, '^[0-9]+[.][0-9]+[.]([0-9]{1,18})([^0-9]|$)'), '') AS BIGINT) ASC, CAST(NULLIF(
          REGEXP_EXTRACT(`DriverVersion`, '^[0-9]+[.][0-9]+[.][0-9]+[.]([0-9]{1,18})([^0-9]|$)'),
          ''
        ) AS BIGINT) ASC, `DriverVersion` ASC
      ) AS `PreviousFailureRateLow`,
      LAG(`FailureRateHigh`) OVER (
        PARTITION BY `DriverName`, `DriverVersion` IS NULL
        ORDER BY CAST(NULLIF(REGEXP_EXTRACT(`DriverVersion`, '^([0-9]{1,18})([^0-9]|$)'), '') AS BIGINT) ASC, CAST(NULLIF(REGEXP_EXTRACT(`DriverVersion`, '^[0-9]+[.]([0-9]{1,18})([^0-9]|$)'), '') AS BIGINT) ASC, CAST(NULLIF(REGEXP_EXTRACT(`DriverVersion`, '^[0-9]+[.][0-9]+[.]([0-9]{1,18})([^0-9]|$)'), '') AS BIGINT) ASC, CAST(NULLIF(
          REGEXP_EXTRACT(`DriverVersion`, '^[0-9]+[.][0-9]+[.][0-9]+[.]([0-9]{1,18})([^0-9]|$)'),
          ''
        ) AS BIGINT) ASC, `DriverVersion` ASC
      ) AS `PreviousFailureRateHigh`
    FROM `measured`
  ) AS `lagged`
)
SELECT
  CAST(42 AS BIGINT) AS `ReportId`,
  `DriverName` AS `DriverName`,
  `DriverVersion` AS `DriverVersion`,
  `SUM(EventCount)` AS `SUM(EventCount)`,
  `FailingDeviceDays` AS `FailingDeviceDays`,
  `InstalledDeviceDays` AS `InstalledDeviceDays`,
  `FailureRate` AS `FailureRate`,
  `FailureRateLow` AS `FailureRateLow`,
  `FailureRateHigh` AS `FailureRateHigh`,
  `PreviousVersion` AS `PreviousVersion`,
  `PreviousFailingDeviceDays` AS `PreviousFailingDeviceDays`,
  `PreviousInstalledDeviceDays` AS `PreviousInstalledDeviceDays`,
  `PreviousFailureRate` AS `PreviousFailureRate`,
  `PreviousFailureRateLow` AS `PreviousFailureRateLow`,
  `PreviousFailureRateHigh` AS `PreviousFailureRateHigh`,
  `RateRatio` AS `RateRatio`,
  `Regressed` AS `Regressed`
FROM `compared`
WHERE
  `Regressed` = TRUE
ORDER BY
  `RateRatio` DESC,
  `DriverName` ASC NULLS LAST,
  `DriverVersion` ASC NULLS LAST
LIMIT 10
