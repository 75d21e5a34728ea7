-- duckdb
SELECT
  CAST(101 AS BIGINT) AS "ReportId",
  "FailureDate" AS "FailureDate",
  "FailureDateTime" AS "FailureDateTime",
  "ApplicationId" AS "ApplicationId",
  "SubmissionId" AS "SubmissionId",
  "FailureName" AS "FailureName",
  "FailureHash" AS "FailureHash",
  "Symbol" AS "Symbol",
  "OSVersion" AS "OSVersion",
  "OSName" AS "OSName",
  "EventType" AS "EventType",
  "Market" AS "Market",
  "DeviceType" AS "DeviceType",
  "DriverName" AS "DriverName",
  "DriverVersion" AS "DriverVersion",
  "Architecture" AS "Architecture",
  "OEMName" AS "OEMName",
  "OEMModel" AS "OEMModel",
  "FlightRing" AS "FlightRing",
  "Mode" AS "Mode",
  "CPUName" AS "CPUName",
  "OSSKUType" AS "OSSKUType",
  "ReleaseName" AS "ReleaseName",
  "CabType" AS "CabType",
  "CabIdHash" AS "CabIdHash",
  "DeviceId" AS "DeviceId",
  "HardwareId" AS "HardwareId",
  "CabCollectionTime" AS "CabCollectionTime",
  "CabExpirationTime" AS "CabExpirationTime",
  "EventCount" AS "EventCount"
FROM "failure_events"
WHERE
  "IhvPartner" = 'Contoso'
  AND "FailureDate" >= CAST('2024-05-01' AS DATE)
  AND "FailureDate" < CAST('2024-05-08' AS DATE)
-- spark
SELECT
  CAST(101 AS BIGINT) AS `ReportId`,
  `FailureDate` AS `FailureDate`,
  `FailureDateTime` AS `FailureDateTime`,
  `ApplicationId` AS `ApplicationId`,
  `SubmissionId` AS `SubmissionId`,
  `FailureName` AS `FailureName`,
  `FailureHash` AS `FailureHash`,
  `Symbol` AS `Symbol`,
  `OSVersion` AS `OSVersion`,
  `OSName` AS `OSName`,
  `EventType` AS `EventType`,
  `Market` AS `Market`,
  `DeviceType` AS `DeviceType`,
  `DriverName` AS `DriverName`,
  `DriverVersion` AS `DriverVersion`,
  `Architecture` AS `Architecture`,
  `OEMName` AS `OEMName`,
  `OEMModel` AS `OEMModel`,
  `FlightRing` AS `FlightRing`,
  `Mode` AS `Mode`,
  `CPUName` AS `CPUName`,
  `OSSKUType` AS `OSSKUType`,
  `ReleaseName` AS `ReleaseName`,
  `CabType` AS `CabType`,
  `CabIdHash` AS `CabIdHash`,
  `DeviceId` AS `DeviceId`,
  `HardwareId` AS `HardwareId`,
  `CabCollectionTime` AS `CabCollectionTime`,
  `CabExpirationTime` AS `CabExpirationTime`,
  `EventCount` AS `EventCount`
FROM `failure_events`
WHERE
  `IhvPartner` = 'Contoso'
  AND `FailureDate` >= CAST('2024-05-01' AS DATE)
  AND `FailureDate` < CAST('2024-05-08' AS DATE)
-- postgres
SELECT
  CAST(101 AS BIGINT) AS "ReportId",
  "FailureDate" AS "FailureDate",
  "FailureDateTime" AS "FailureDateTime",
  "ApplicationId" AS "ApplicationId",
  "SubmissionId" AS "SubmissionId",
  "FailureName" AS "FailureName",
  "FailureHash" AS "FailureHash",
  "Symbol" AS "Symbol",
  "OSVersion" AS "OSVersion",
  "OSName" AS "OSName",
  "EventType" AS "EventType",
  "Market" AS "Market",
  "DeviceType" AS "DeviceType",
  "DriverName" AS "DriverName",
  "DriverVersion" AS "DriverVersion",
  "Architecture" AS "Architecture",
  "OEMName" AS "OEMName",
  "OEMModel" AS "OEMModel",
  "FlightRing" AS "FlightRing",
  "Mode" AS "Mode",
  "CPUName" AS "CPUName",
  "OSSKUType" AS "OSSKUType",
  "ReleaseName" AS "ReleaseName",
  "CabType" AS "CabType",
  "CabIdHash" AS "CabIdHash",
  "DeviceId" AS "DeviceId",
  "HardwareId" AS "HardwareId",
  "CabCollectionTime" AS "CabCollectionTime",
  "CabExpirationTime" AS "CabExpirationTime",
  "EventCount" AS "EventCount"
FROM "failure_events"
WHERE
  "IhvPartner" = 'Contoso'
  AND "FailureDate" >= CAST('2024-05-01' AS DATE)
  AND "FailureDate" < CAST('2024-05-08' AS DATE)
