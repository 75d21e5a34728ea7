-- duckdb
SELECT
  CAST(102 AS BIGINT) AS "ReportId",
  "FailureDate" AS "FailureDate",
  "FailureDateTime" AS "FailureDateTime",
  "FailureName" AS "FailureName",
  SUBSTRING(LOWER(HEX("FailureHash")), 1, 8) || '-' || SUBSTRING(LOWER(HEX("FailureHash")), 9, 4) || '-' || SUBSTRING(LOWER(HEX("FailureHash")), 13, 4) || '-' || SUBSTRING(LOWER(HEX("FailureHash")), 17, 4) || '-' || SUBSTRING(LOWER(HEX("FailureHash")), 21, 12) AS "FailureHash",
  "Symbol" AS "Symbol",
  "OSVersion" AS "OSVersion",
  "EventType" AS "EventType",
  "Market" AS "Market",
  "DeviceType" AS "DeviceType",
  "DriverName" AS "DriverName",
  "DriverVersion" AS "DriverVersion",
  "Architecture" AS "Architecture",
  "OEMModel" AS "Model",
  "Baseboard" AS "Baseboard",
  "ModelFamily" AS "ModelFamily",
  "FlightRing" AS "FlightRing",
  "Mode" AS "Mode",
  "CPUName" AS "CPUName",
  "OSSKUType" AS "OSSKUType",
  "ReleaseName" AS "ReleaseName",
  "CabType" AS "CabType",
  "CabIdHash" AS "CabIdHash",
  SUBSTRING(LOWER(HEX("DeviceId")), 1, 8) || '-' || SUBSTRING(LOWER(HEX("DeviceId")), 9, 4) || '-' || SUBSTRING(LOWER(HEX("DeviceId")), 13, 4) || '-' || SUBSTRING(LOWER(HEX("DeviceId")), 17, 4) || '-' || SUBSTRING(LOWER(HEX("DeviceId")), 21, 12) AS "DeviceId",
  "HardwareId" AS "HardwareId",
  "CabCollectionTime" AS "CabCollectionTime",
  "CabExpirationTime" AS "CabExpirationTime",
  "EventCount" AS "EventCount"
FROM "failure_events_by_oem"
WHERE
  "OemPartner" = 'Fabrikam'
  AND "FailureDate" >= CAST('2024-05-01' AS DATE)
  AND "FailureDate" < CAST('2024-05-08' AS DATE)
-- spark
SELECT
  CAST(102 AS BIGINT) AS `ReportId`,
  `FailureDate` AS `FailureDate`,
  `FailureDateTime` AS `FailureDateTime`,
  `FailureName` AS `FailureName`,
  SUBSTRING(LOWER(HEX(`FailureHash`)), 1, 8) || '-' || SUBSTRING(LOWER(HEX(`FailureHash`)), 9, 4) || '-' || SUBSTRING(LOWER(HEX(`FailureHash`)), 13, 4) || '-' || SUBSTRING(LOWER(HEX(`FailureHash`)), 17, 4) || '-' || SUBSTRING(LOWER(HEX(`FailureHash`)), 21, 12) AS `FailureHash`,
  `Symbol` AS `Symbol`,
  `OSVersion` AS `OSVersion`,
  `EventType` AS `EventType`,
  `Market` AS `Market`,
  `DeviceType` AS `DeviceType`,
  `DriverName` AS `DriverName`,
  `DriverVersion` AS `DriverVersion`,
  `Architecture` AS `Architecture`,
  `OEMModel` AS `Model`,
  `Baseboard` AS `Baseboard`,
  `ModelFamily` AS `ModelFamily`,
  `FlightRing` AS `FlightRing`,
  `Mode` AS `Mode`,
  `CPUName` AS `CPUName`,
  `OSSKUType` AS `OSSKUType`,
  `ReleaseName` AS `ReleaseName`,
  `CabType` AS `CabType`,
  `CabIdHash` AS `CabIdHash`,
  SUBSTRING(LOWER(HEX(`DeviceId`)), 1, 8) || '-' || SUBSTRING(LOWER(HEX(`DeviceId`)), 9, 4) || '-' || SUBSTRING(LOWER(HEX(`DeviceId`)), 13, 4) || '-' || SUBSTRING(LOWER(HEX(`DeviceId`)), 17, 4) || '-' || SUBSTRING(LOWER(HEX(`DeviceId`)), 21, 12) AS `DeviceId`,
  `HardwareId` AS `HardwareId`,
  `CabCollectionTime` AS `CabCollectionTime`,
  `CabExpirationTime` AS `CabExpirationTime`,
  `EventCount` AS `EventCount`
FROM `failure_events_by_oem`
WHERE
  `OemPartner` = 'Fabrikam'
  AND `FailureDate` >= CAST('2024-05-01' AS DATE)
  AND `FailureDate` < CAST('2024-05-08' AS DATE)
-- postgres
SELECT
  CAST(102 AS BIGINT) AS "ReportId",
  "FailureDate" AS "FailureDate",
  "FailureDateTime" AS "FailureDateTime",
  "FailureName" AS "FailureName",
  SUBSTRING(LOWER(HEX("FailureHash")) FROM 1 FOR 8) || '-' || SUBSTRING(LOWER(HEX("FailureHash")) FROM 9 FOR 4) || '-' || SUBSTRING(LOWER(HEX("FailureHash")) FROM 13 FOR 4) || '-' || SUBSTRING(LOWER(HEX("FailureHash")) FROM 17 FOR 4) || '-' || SUBSTRING(LOWER(HEX("FailureHash")) FROM 21 FOR 12) AS "FailureHash",
  "Symbol" AS "Symbol",
  "OSVersion" AS "OSVersion",
  "EventType" AS "EventType",
  "Market" AS "Market",
  "DeviceType" AS "DeviceType",
  "DriverName" AS "DriverName",
  "DriverVersion" AS "DriverVersion",
  "Architecture" AS "Architecture",
  "OEMModel" AS "Model",
  "Baseboard" AS "Baseboard",
  "ModelFamily" AS "ModelFamily",
  "FlightRing" AS "FlightRing",
  "Mode" AS "Mode",
  "CPUName" AS "CPUName",
  "OSSKUType" AS "OSSKUType",
  "ReleaseName" AS "ReleaseName",
  "CabType" AS "CabType",
  "CabIdHash" AS "CabIdHash",
  SUBSTRING(LOWER(HEX("DeviceId")) FROM 1 FOR 8) || '-' || SUBSTRING(LOWER(HEX("DeviceId")) FROM 9 FOR 4) || '-' || SUBSTRING(LOWER(HEX("DeviceId")) FROM 13 FOR 4) || '-' || SUBSTRING(LOWER(HEX("DeviceId")) FROM 17 FOR 4) || '-' || SUBSTRING(LOWER(HEX("DeviceId")) FROM 21 FOR 12) AS "DeviceId",
  "HardwareId" AS "HardwareId",
  "CabCollectionTime" AS "CabCollectionTime",
  "CabExpirationTime" AS "CabExpirationTime",
  "EventCount" AS "EventCount"
FROM "failure_events_by_oem"
WHERE
  "OemPartner" = 'Fabrikam'
  AND "FailureDate" >= CAST('2024-05-01' AS DATE)
  AND "FailureDate" < CAST('2024-05-08' AS DATE)
