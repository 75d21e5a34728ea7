-- duckdb
SELECT
  "OEMModel" AS "Model",
  "Baseboard" AS "Baseboard"
FROM "failure_events_by_oem"
WHERE
  "OemPartner" = 'Fabrikam'
  AND "FailureDate" >= CAST('2024-05-01' AS DATE)
  AND "FailureDate" < CAST('2024-05-08' AS DATE)
  AND "OEMModel" = 'Surface Laptop 7'
ORDER BY
  "OEMModel" ASC,
  "Baseboard" ASC
-- spark
SELECT
  `OEMModel` AS `Model`,
  `Baseboard` AS `Baseboard`
FROM `failure_events_by_oem`
WHERE
  `OemPartner` = 'Fabrikam'
  AND `FailureDate` >= CAST('2024-05-01' AS DATE)
  AND `FailureDate` < CAST('2024-05-08' AS DATE)
  AND `OEMModel` = 'Surface Laptop 7'
ORDER BY
  `OEMModel` ASC NULLS LAST,
  `Baseboard` ASC NULLS LAST
-- postgres
SELECT
  "OEMModel" AS "Model",
  "Baseboard" AS "Baseboard"
FROM "failure_events_by_oem"
WHERE
  "OemPartner" = 'Fabrikam'
  AND "FailureDate" >= CAST('2024-05-01' AS DATE)
  AND "FailureDate" < CAST('2024-05-08' AS DATE)
  AND "OEMModel" = 'Surface Laptop 7'
ORDER BY
  "OEMModel" ASC,
  "Baseboard" ASC
