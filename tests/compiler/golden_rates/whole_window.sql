-- duckdb
WITH "failing" AS (
  SELECT
    COUNT(
      DISTINCT CASE
        WHEN "DeviceId" IS NULL
        THEN NULL
        WHEN "FailureDate" IS NULL
        THEN NULL
        ELSE ("DeviceId", "FailureDate")
      END
    ) AS "FailingDeviceDays"
  FROM "failure_events"
  WHERE
    "IhvPartner" = 'Contoso'
    AND "FailureDate" >= CAST('2024-05-01' AS DATE)
    AND "FailureDate" < CAST('2024-05-08' AS DATE)
), "installs_daily" AS (
  SELECT
    "InstallDate" AS "Day",
    CAST(SUM("DeviceCount") AS BIGINT) AS "DailyDevices"
  FROM "install_base"
  WHERE
    "IhvPartner" = 'Contoso'
    AND "InstallDate" >= CAST('2024-05-01' AS DATE)
    AND "InstallDate" < CAST('2024-05-08' AS DATE)
  GROUP BY
    "InstallDate"
), "installs" AS (
  SELECT
    CAST(SUM("DailyDevices") AS BIGINT) AS "InstalledDeviceDays"
  FROM "installs_daily"
), "counted" AS (
  SELECT
    COALESCE("f"."FailingDeviceDays", 0) AS "FailingDeviceDays",
    COALESCE("i"."InstalledDeviceDays", 0) AS "InstalledDeviceDays",
    CAST(CASE
      WHEN COALESCE("i"."InstalledDeviceDays", 0) > 0
      THEN GREATEST(COALESCE("i"."InstalledDeviceDays", 0), COALESCE("f"."FailingDeviceDays", 0))
    END AS DOUBLE) AS "_n",
    CAST(COALESCE("f"."FailingDeviceDays", 0) AS DOUBLE) AS "_k"
  FROM "failing" AS "f"
  CROSS JOIN "installs" AS "i"
), "measured" AS (
  SELECT
    "FailingDeviceDays" AS "FailingDeviceDays",
    "InstalledDeviceDays" AS "InstalledDeviceDays",
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
      "FailingDeviceDays" AS "FailingDeviceDays",
      "InstalledDeviceDays" AS "InstalledDeviceDays",
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
)
SELECT
  "FailingDeviceDays" AS "FailingDeviceDays",
  "InstalledDeviceDays" AS "InstalledDeviceDays",
  "FailureRate" AS "FailureRate",
  "FailureRateLow" AS "FailureRateLow",
  "FailureRateHigh" AS "FailureRateHigh"
FROM "measured"
-- spark
WITH `failing` AS (
  SELECT
    COUNT(DISTINCT `DeviceId`, `FailureDate`) AS `FailingDeviceDays`
  FROM `failure_events`
  WHERE
    `IhvPartner` = 'Contoso'
    AND `FailureDate` >= CAST('2024-05-01' AS DATE)
    AND `FailureDate` < CAST('2024-05-08' AS DATE)
), `installs_daily` AS (
  SELECT
    `InstallDate` AS `Day`,
    CAST(SUM(`DeviceCount`) AS BIGINT) AS `DailyDevices`
  FROM `install_base`
  WHERE
    `IhvPartner` = 'Contoso'
    AND `InstallDate` >= CAST('2024-05-01' AS DATE)
    AND `InstallDate` < CAST('2024-05-08' AS DATE)
  GROUP BY
    `InstallDate`
), `installs` AS (
  SELECT
    CAST(SUM(`DailyDevices`) AS BIGINT) AS `InstalledDeviceDays`
  FROM `installs_daily`
), `counted` AS (
  SELECT
    COALESCE(`f`.`FailingDeviceDays`, 0) AS `FailingDeviceDays`,
    COALESCE(`i`.`InstalledDeviceDays`, 0) AS `InstalledDeviceDays`,
    CAST(CASE
      WHEN COALESCE(`i`.`InstalledDeviceDays`, 0) > 0
      THEN GREATEST(COALESCE(`i`.`InstalledDeviceDays`, 0), COALESCE(`f`.`FailingDeviceDays`, 0))
    END AS DOUBLE) AS `_n`,
    CAST(COALESCE(`f`.`FailingDeviceDays`, 0) AS DOUBLE) AS `_k`
  FROM `failing` AS `f`
  CROSS JOIN `installs` AS `i`
), `measured` AS (
  SELECT
    `FailingDeviceDays` AS `FailingDeviceDays`,
    `InstalledDeviceDays` AS `InstalledDeviceDays`,
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
      `FailingDeviceDays` AS `FailingDeviceDays`,
      `InstalledDeviceDays` AS `InstalledDeviceDays`,
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
)
SELECT
  `FailingDeviceDays` AS `FailingDeviceDays`,
  `InstalledDeviceDays` AS `InstalledDeviceDays`,
  `FailureRate` AS `FailureRate`,
  `FailureRateLow` AS `FailureRateLow`,
  `FailureRateHigh` AS `FailureRateHigh`
FROM `measured`
