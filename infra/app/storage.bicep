// One storage account for the Functions host (AzureWebJobsStorage), the app's queues, its media blobs
// and the Flex Consumption deployment package. Entra ID only: shared keys and SAS signed with them are off.
param name string
param location string
param tags object = {}
param logAnalyticsWorkspaceId string

@description('ZRS keeps media and queued work through a zone outage; use Standard_LRS where ZRS is not offered.')
@allowed(['Standard_ZRS', 'Standard_LRS', 'Standard_GZRS', 'Standard_RAGZRS'])
param skuName string = 'Standard_ZRS'

// Names the code uses (shared/storage/names.py, MEDIA_CONTAINER); tests/test_infra.py keeps them in step.
var mediaContainerName = 'media'
var deploymentContainerName = 'deployment-package'
var queueNames = [
  'dataverse-mirror'
  'dataverse-mirror-poison'
  'media-inbound'
  'media-inbound-poison'
]

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  //checkov:skip=CKV_AZURE_35:Public endpoint by design: Flex Consumption without VNet integration reaches storage over it; shared keys are off, so every request needs Entra ID + RBAC (see docs/deploy.md, "Network").
  //checkov:skip=CKV_AZURE_59:Same as CKV_AZURE_35: anonymous and key-based access are both disabled (see docs/deploy.md, "Network").
  //checkov:skip=CKV_AZURE_206:Zone-redundant (ZRS) by default; conversations live in single-region Cosmos DB, so geo-replicating media and transient queues alone buys nothing (skuName accepts GZRS).
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: skuName
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
    encryption: {
      keySource: 'Microsoft.Storage'
      requireInfrastructureEncryption: true
      services: {
        blob: {
          enabled: true
        }
        queue: {
          enabled: true
          keyType: 'Account'
        }
      }
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: 7
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: 7
    }
  }
}

resource mediaContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: mediaContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource queues 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = [
  for queueName in queueNames: {
    parent: queueService
    name: queueName
  }
]

// Writes and deletes on the queues go to Log Analytics (table StorageQueueLogs): the poison-queue alert
// counts messages put into `*-poison` and not yet removed. Reads (the host's polling) are left out: they
// are most of the volume and say nothing an alert needs.
resource queueDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'queue-writes-to-log-analytics'
  scope: queueService
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        category: 'StorageWrite'
        enabled: true
      }
      {
        category: 'StorageDelete'
        enabled: true
      }
    ]
  }
}

output name string = account.name
output blobEndpoint string = account.properties.primaryEndpoints.blob
output mediaContainerName string = mediaContainer.name
output deploymentContainerName string = deploymentContainer.name
