// WhatsApp two-way messaging for Dynamics 365: everything the Function App needs, in one resource group.
// `azd up` deploys it (see docs/deploy.md); tests/test_infra.py checks it without Azure.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('azd environment name; it seeds the unique suffix of every resource name.')
param environmentName string

// The regions that offer the Flex Consumption plan, as Microsoft's azd quickstart for it lists them:
// github.com/Azure-Samples/functions-quickstart-python-http-azd, infra/main.bicep (`location`). The list is
// dated 2025-05-06 (commit fe29236, the last to change it; unchanged at 7ed4638 of 2025-11-24), less
// `eastus2euap`, an early-access (canary) region that only enrolled subscriptions can deploy to. azd
// offers only these when it asks for a region (`type: 'location'` below); Azure refuses any other value.
// Microsoft adds regions over time: `az functionapp list-flexconsumption-locations -o table` is the
// current truth, and a region it names that is missing here must be added here first.
@minLength(1)
@description('Azure region for all resources; one that offers the Flex Consumption plan.')
@allowed([
  'australiaeast'
  'australiasoutheast'
  'brazilsouth'
  'canadacentral'
  'centralindia'
  'centralus'
  'eastasia'
  'eastus'
  'eastus2'
  'francecentral'
  'germanywestcentral'
  'italynorth'
  'japaneast'
  'koreacentral'
  'northcentralus'
  'northeurope'
  'norwayeast'
  'southafricanorth'
  'southcentralus'
  'southeastasia'
  'southindia'
  'spaincentral'
  'swedencentral'
  'uaenorth'
  'uksouth'
  'ukwest'
  'westcentralus'
  'westeurope'
  'westus'
  'westus2'
  'westus3'
])
@metadata({ azd: { type: 'location' } })
param location string

@description('Object id of the person running azd (AZURE_PRINCIPAL_ID): may rotate secrets and inspect queues.')
param principalId string = ''

@description('Grant principalId Key Vault Secrets Officer and Storage Queue Data Contributor (token rotation, poison queues).')
param grantOperatorAccess bool = true

// ---- WhatsApp (Meta) ---------------------------------------------------------------------------
// The three Meta secrets are required and go to Key Vault only; the app reads them as Key Vault references.
// No default: azd takes each from the azd environment (main.parameters.json) and, where that has none or
// an empty one, asks for it with hidden input. `@minLength(1)` makes an empty value fail before anything is
// deployed (azd's prompt checks it, and Azure Resource Manager validates parameters before it starts),
// instead of leaving the app a reference to a secret that was never written. `@minLength` rather than a
// `fail()` expression: a parameter constraint, checked up front by azd and by ARM, with any Bicep version.
// Every `azd provision` writes these values as the secrets' current versions: after rotating one in Key
// Vault, give azd the new value too (docs/deploy.md, "Rotate the access token").
@secure()
@minLength(1)
@description('Meta app secret: signs every webhook (App Dashboard > App settings > Basic).')
param whatsappAppSecret string

@secure()
@minLength(1)
@description('Any random string; Meta sends it back in the webhook verification handshake.')
param whatsappVerifyToken string

@secure()
@minLength(1)
@description('System-user access token for the Graph API (sending, media).')
param whatsappAccessToken string

@description('Default business phone number id (WhatsApp Manager > Phone numbers).')
param whatsappPhoneNumberId string

@description('Comma-separated business phone number ids agents may use; empty = only whatsappPhoneNumberId.')
param whatsappPhoneNumberIds string = ''

@description('Comma-separated hosts that may receive the access token when a customer\'s file is downloaded.')
param whatsappMediaHosts string = 'lookaside.fbsbx.com'

@description('WhatsApp Business Account id whose message templates the numbers send (WhatsApp Manager > Account tools); empty = no templates.')
param whatsappBusinessAccountId string = ''

@description('For numbers of several accounts: comma-separated <phoneNumberId>:<wabaId> pairs; a number not listed uses whatsappBusinessAccountId.')
param whatsappBusinessAccountIds string = ''

@description('Graph API version the code is pinned to; status payload shapes differ by version.')
param whatsappApiVersion string = 'v23.0'

@description('Graph API host.')
param whatsappGraphBaseUrl string = 'https://graph.facebook.com'

// ---- D365-facing API ---------------------------------------------------------------------------
@description('Comma-separated origins allowed to call the API from a browser, e.g. https://contoso.crm.dynamics.com')
param allowedOrigins string = ''

@description('Entra ID tenant whose agents may call the API; empty = the tenant of this subscription.')
param authTenantId string = ''

@description('The API app registration: its application id and/or api:// id URI, comma-separated.')
param authAudience string = ''

@description('App role an agent must hold; empty = any user of the tenant.')
param authRequiredRole string = 'WhatsApp.Agent'

@description('Minutes a read URL handed out for a media blob stays valid (a user delegation SAS; at most a day).')
@minValue(1)
@maxValue(1440)
param mediaUrlMinutes int = 60

@description('Seconds an agent\'s access to a record, as Dataverse decided it, is remembered.')
@minValue(0)
@maxValue(3600)
param accessCacheSeconds int = 300

// ---- Dataverse mirror --------------------------------------------------------------------------
@description('Dataverse environment URL, e.g. https://contoso.crm.dynamics.com; empty = mirror disabled.')
param dataverseUrl string = ''

@description('Tenant of the Dataverse environment; empty = the tenant of this subscription.')
param dataverseTenantId string = ''

@description('Client id of an app registration for Dataverse; empty = the Function App\'s managed identity.')
param dataverseClientId string = ''

@secure()
@description('Secret of that app registration; empty = managed identity (no secret at all).')
param dataverseClientSecret string = ''

@description('Publisher prefix of the Dataverse solution: the table is <prefix>_whatsappmessage.')
param dataverseTablePrefix string = 'wa'

@description('Whether a number matching no contact or lead creates a lead.')
param dataverseCreateLeads bool = false

@description('Seconds an agent\'s message (or a customer\'s file) settles before its Timeline row is written, so the statuses that follow go in one write; 0 = every change at once.')
@minValue(0)
@maxValue(300)
param dataverseMirrorSettleSeconds int = 30

@description('Seconds a customer\'s message may wait unread before the linked record\'s owner gets a D365 in-app notification; 0 = never.')
@minValue(0)
@maxValue(86400)
param dataverseNotifyAfterSeconds int = 300

// ---- Scale and alerts --------------------------------------------------------------------------
@description('Flex Consumption instance ceiling (40 to 1000); bounds concurrency against Cosmos DB, Meta and Dataverse.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Cosmos DB capacity: serverless (pay per request, the default) or autoscale (provisioned, for Meta\'s top throughput tier; docs/capacity.md). An existing serverless account must change its capacity mode before this is set to autoscale.')
@allowed([
  'serverless'
  'autoscale'
])
param cosmosThroughputMode string = 'serverless'

@description('Autoscale only: the container\'s maximum RU/s, a multiple of 1,000 (docs/capacity.md works it out).')
@minValue(1000)
param cosmosAutoscaleMaxThroughput int = 1000

@description('E-mail address that receives the alerts; empty = alerts show in the portal only.')
param alertEmail string = ''

@description('Whether the /api/health alert is on: false until the app has answered 200 once (the postdeploy hook in azure.yaml then sets HEALTH_ALERT_ENABLED).')
param healthAlertEnabled bool = false

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module identity 'app/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: 'id-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: 'log-${resourceToken}'
    applicationInsightsName: 'appi-${resourceToken}'
    location: location
    tags: tags
  }
}

module storage 'app/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: 'st${resourceToken}'
    location: location
    tags: tags
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
  }
}

module cosmos 'app/cosmos.bicep' = {
  name: 'cosmos'
  scope: rg
  params: {
    name: 'cosmos-${resourceToken}'
    location: location
    tags: tags
    cosmosThroughputMode: cosmosThroughputMode
    cosmosAutoscaleMaxThroughput: cosmosAutoscaleMaxThroughput
  }
}

module keyVault 'app/key-vault.bicep' = {
  name: 'keyvault'
  scope: rg
  params: {
    name: 'kv-${resourceToken}'
    location: location
    tags: tags
    whatsappAppSecret: whatsappAppSecret
    whatsappVerifyToken: whatsappVerifyToken
    whatsappAccessToken: whatsappAccessToken
    dataverseClientSecret: dataverseClientSecret
  }
}

module rbac 'app/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    principalId: identity.outputs.principalId
    storageAccountName: storage.outputs.name
    cosmosAccountName: cosmos.outputs.name
    keyVaultName: keyVault.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    operatorPrincipalId: grantOperatorAccess ? principalId : ''
  }
}

module functionApp 'app/function-app.bicep' = {
  name: 'function-app'
  scope: rg
  // Key Vault references and the identity-based storage connection resolve at start-up: roles first.
  dependsOn: [rbac]
  params: {
    name: 'func-${resourceToken}'
    planName: 'plan-${resourceToken}'
    location: location
    tags: tags
    maximumInstanceCount: maximumInstanceCount
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    deploymentContainerName: storage.outputs.deploymentContainerName
    mediaContainerName: storage.outputs.mediaContainerName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    cosmosEndpoint: cosmos.outputs.endpoint
    cosmosDatabaseName: cosmos.outputs.databaseName
    cosmosContainerName: cosmos.outputs.containerName
    keyVaultUri: keyVault.outputs.uri
    dataverseSecretStored: !empty(dataverseClientSecret)
    whatsappPhoneNumberId: whatsappPhoneNumberId
    whatsappPhoneNumberIds: empty(whatsappPhoneNumberIds) ? whatsappPhoneNumberId : whatsappPhoneNumberIds
    whatsappMediaHosts: whatsappMediaHosts
    whatsappBusinessAccountId: whatsappBusinessAccountId
    whatsappBusinessAccountIds: whatsappBusinessAccountIds
    whatsappApiVersion: whatsappApiVersion
    whatsappGraphBaseUrl: whatsappGraphBaseUrl
    allowedOrigins: allowedOrigins
    authTenantId: empty(authTenantId) ? tenant().tenantId : authTenantId
    authAudience: authAudience
    authRequiredRole: authRequiredRole
    mediaUrlMinutes: mediaUrlMinutes
    accessCacheSeconds: accessCacheSeconds
    dataverseUrl: dataverseUrl
    dataverseTenantId: empty(dataverseTenantId) ? tenant().tenantId : dataverseTenantId
    dataverseClientId: dataverseClientId
    dataverseTablePrefix: dataverseTablePrefix
    dataverseCreateLeads: dataverseCreateLeads
    dataverseMirrorSettleSeconds: dataverseMirrorSettleSeconds
    dataverseNotifyAfterSeconds: dataverseNotifyAfterSeconds
  }
}

module alerts 'app/alerts.bicep' = {
  name: 'alerts'
  scope: rg
  params: {
    location: location
    tags: tags
    resourceToken: resourceToken
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
    healthUrl: '${functionApp.outputs.url}/api/health'
    alertEmail: alertEmail
    healthAlertEnabled: healthAlertEnabled
  }
}

// Names and URLs only: azd copies outputs into .azure/<env>/.env, so nothing secret belongs here.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_COSMOS_ENDPOINT string = cosmos.outputs.endpoint
output AZURE_MANAGED_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.applicationInsightsName
output API_BASE_URL string = '${functionApp.outputs.url}/api'
output WHATSAPP_WEBHOOK_URL string = '${functionApp.outputs.url}/api/whatsapp/webhook'
