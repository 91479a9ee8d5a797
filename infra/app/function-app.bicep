// The Function App on the Flex Consumption plan (Linux, Python 3.11) and every setting the code reads
// (shared/config.py). tests/test_infra.py fails when the code reads a setting this file does not set.
param name string
param planName string
param location string
param tags object = {}

param identityId string
param identityClientId string
param storageAccountName string
param deploymentContainerName string
param mediaContainerName string
param applicationInsightsName string
param cosmosEndpoint string
param cosmosDatabaseName string
param cosmosContainerName string
param keyVaultUri string
@description('Whether a Dataverse client secret is in Key Vault (else the mirror signs in with the managed identity).')
param dataverseSecretStored bool = false

param whatsappPhoneNumberId string
param whatsappPhoneNumberIds string
param whatsappMediaHosts string
param whatsappBusinessAccountId string
param whatsappBusinessAccountIds string
param whatsappApiVersion string
param whatsappGraphBaseUrl string
param allowedOrigins string
param authTenantId string
param authAudience string
param authRequiredRole string
param mediaUrlMinutes int
param accessCacheSeconds int
param dataverseUrl string
param dataverseTenantId string
param dataverseClientId string
param dataverseTablePrefix string
param dataverseCreateLeads bool
param dataverseMirrorSettleSeconds int
param dataverseNotifyAfterSeconds int

@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40
// Sizes and concurrency chosen from measured memory (docs/deploy.md, "Instance size and concurrency";
// `python -m benchmarks.media_upload`). Flex Consumption offers 512 MB (0.25 vCPU), 2,048 MB (1 vCPU)
// and 4,096 MB (2 vCPU) instances and bills GB-seconds of the size chosen. 512 MB cannot hold one
// 95 MB upload (the host, the worker's copy and the app's each hold the body); 2,048 MB holds four.
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048
// HTTP requests one instance runs at once (all HTTP functions scale together). Python apps default to
// 1 at every size; four 95 MB uploads at once are what 2,048 MB holds with headroom.
@minValue(1)
@maxValue(16)
param perInstanceConcurrency int = 4
// Worker threads for sync functions: a queue-triggered function's instance runs host.json's
// batchSize + newBatchThreshold (8 + 4) messages at once; the default pool (min(32, CPUs + 4)) has 5.
param pythonThreadCount int = 12

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

var corsOrigins = empty(allowedOrigins) ? [] : split(replace(allowedOrigins, ' ', ''), ',')

// Versionless Key Vault references: a new secret version is picked up without redeploying.
var secretReference = '@Microsoft.KeyVault(SecretUri=${keyVaultUri}secrets/'

var appSettings = [
  // Functions host storage (triggers, leases) with the identity; the app's own clients read the same
  // account name (shared/storage/clients.py). No `AzureWebJobsStorage` connection string: keys are off.
  {
    name: 'AzureWebJobsStorage__accountName'
    value: storage.name
  }
  {
    name: 'AzureWebJobsStorage__credential'
    value: 'managedidentity'
  }
  {
    name: 'AzureWebJobsStorage__clientId'
    value: identityClientId
  }
  // DefaultAzureCredential in the app (Cosmos DB, queues, blobs) picks the user-assigned identity by this.
  {
    name: 'AZURE_CLIENT_ID'
    value: identityClientId
  }

  // OpenTelemetry as Microsoft documents it for Python (infra/README.md, "Telemetry"): host.json sets
  // telemetryMode for the host; this lets the worker export its own (azure-monitor-opentelemetry: log
  // `extra` fields become customDimensions). Local auth is off: both sign in with the identity below.
  {
    name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
    value: applicationInsights.properties.ConnectionString
  }
  {
    name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING'
    value: 'ClientId=${identityClientId};Authorization=AAD'
  }
  {
    name: 'PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY'
    value: 'true'
  }
  // As many worker threads as queue messages an instance takes at once (host.json): see the parameter.
  {
    name: 'PYTHON_THREADPOOL_THREAD_COUNT'
    value: string(pythonThreadCount)
  }

  {
    name: 'WHATSAPP_VERIFY_TOKEN'
    value: '${secretReference}whatsapp-verify-token)'
  }
  {
    name: 'WHATSAPP_APP_SECRET'
    value: '${secretReference}whatsapp-app-secret)'
  }
  {
    name: 'WHATSAPP_ACCESS_TOKEN'
    value: '${secretReference}whatsapp-access-token)'
  }
  {
    name: 'WHATSAPP_PHONE_NUMBER_ID'
    value: whatsappPhoneNumberId
  }
  {
    name: 'WHATSAPP_PHONE_NUMBER_IDS'
    value: whatsappPhoneNumberIds
  }
  {
    name: 'WHATSAPP_MEDIA_HOSTS'
    value: whatsappMediaHosts
  }
  {
    name: 'WHATSAPP_BUSINESS_ACCOUNT_ID'
    value: whatsappBusinessAccountId
  }
  {
    name: 'WHATSAPP_BUSINESS_ACCOUNT_IDS'
    value: whatsappBusinessAccountIds
  }
  {
    name: 'WHATSAPP_GRAPH_BASE_URL'
    value: whatsappGraphBaseUrl
  }
  {
    name: 'WHATSAPP_API_VERSION'
    value: whatsappApiVersion
  }

  // COSMOS_KEY is deliberately absent: its absence makes the app use the managed identity.
  {
    name: 'COSMOS_ENDPOINT'
    value: cosmosEndpoint
  }
  {
    name: 'COSMOS_DATABASE'
    value: cosmosDatabaseName
  }
  {
    name: 'COSMOS_CONTAINER'
    value: cosmosContainerName
  }

  {
    name: 'MEDIA_CONTAINER'
    value: mediaContainerName
  }
  {
    name: 'MEDIA_URL_MINUTES'
    value: string(mediaUrlMinutes)
  }
  {
    name: 'ACCESS_CACHE_SECONDS'
    value: string(accessCacheSeconds)
  }

  {
    name: 'DATAVERSE_URL'
    value: dataverseUrl
  }
  {
    name: 'DATAVERSE_TENANT_ID'
    value: dataverseTenantId
  }
  {
    name: 'DATAVERSE_CLIENT_ID'
    value: empty(dataverseClientId) ? identityClientId : dataverseClientId
  }
  {
    name: 'DATAVERSE_TABLE_PREFIX'
    value: dataverseTablePrefix
  }
  {
    name: 'DATAVERSE_CREATE_LEADS'
    value: dataverseCreateLeads ? 'true' : 'false'
  }
  {
    name: 'DATAVERSE_MIRROR_SETTLE_SECONDS'
    value: string(dataverseMirrorSettleSeconds)
  }
  {
    name: 'DATAVERSE_NOTIFY_AFTER_SECONDS'
    value: string(dataverseNotifyAfterSeconds)
  }

  // In Azure, App Service CORS (`siteConfig.cors` below, same list) answers preflights and gives other
  // origins no CORS headers, before a function runs; the app's code does not check origins. Only the local
  // host (devhost/host.py) applies this setting itself; it is set here because shared/config.py reads it.
  {
    name: 'ALLOWED_ORIGINS'
    value: allowedOrigins
  }

  // AUTH_DISABLED is never set in Azure: the D365-facing routes always check Entra ID tokens.
  {
    name: 'AUTH_TENANT_ID'
    value: authTenantId
  }
  {
    name: 'AUTH_AUDIENCE'
    value: authAudience
  }
  {
    name: 'AUTH_REQUIRED_ROLE'
    value: authRequiredRole
  }
  {
    name: 'AUTH_AUTHORITY'
    value: environment().authentication.loginEndpoint
  }
]

// Only with an app registration secret for Dataverse; without one the mirror uses the managed identity.
var dataverseSecretEntry = {
  name: 'DATAVERSE_CLIENT_SECRET'
  value: '${secretReference}dataverse-client-secret)'
}
var dataverseSecretSetting = dataverseSecretStored ? [dataverseSecretEntry] : []

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  //checkov:skip=CKV_AZURE_225:Flex Consumption zone redundancy is offered in some regions only; turn on `zoneRedundant` where the chosen region supports it.
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  //checkov:skip=CKV_AZURE_222:Meta calls the webhook from the internet, and agents' browsers call the API; both are authenticated in code (HMAC signature, Entra ID token).
  //checkov:skip=CKV_AZURE_17:Neither Meta nor a browser presents a client certificate; the webhook is signed (X-Hub-Signature-256) and the API takes Entra ID bearer tokens.
  //checkov:skip=CKV_AZURE_212:Flex Consumption scales each function from zero; always-ready instances are a cost option, not needed for Meta's retrying webhook.
  //checkov:skip=CKV_AZURE_213:App Service health check rotates a fixed instance pool; on Flex Consumption the platform owns instances, so /api/health is probed by an Application Insights availability test (alerts.bicep).
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientAffinityEnabled: false
    keyVaultReferenceIdentity: identityId
    publicNetworkAccess: 'Enabled'
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      cors: {
        allowedOrigins: corsOrigins
        supportCredentials: false
      }
      appSettings: concat(appSettings, dataverseSecretSetting)
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
        triggers: {
          http: {
            perInstanceConcurrency: perInstanceConcurrency
          }
        }
      }
      runtime: {
        name: 'python'
        version: '3.11'
      }
    }
  }
}

// No basic (user name + password) publishing: azd deploys with an Entra ID token.
resource ftpCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

output name string = site.name
output url string = 'https://${site.properties.defaultHostName}'
