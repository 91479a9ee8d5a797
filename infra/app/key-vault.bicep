// Key Vault for Meta's secrets (and a Dataverse client secret, if any). The Function App reads them as Key
// Vault references (versionless, so a new version is picked up within 24 hours or at once after a restart;
// see docs/deploy.md, "Rotate the access token").
// RBAC authorisation only: no access policies.
param name string
param location string
param tags object = {}

// Required, as in main.bicep: the app's settings refer to these three secrets unconditionally.
@secure()
@minLength(1)
param whatsappAppSecret string
@secure()
@minLength(1)
param whatsappVerifyToken string
@secure()
@minLength(1)
param whatsappAccessToken string
// Optional: without it the mirror signs in to Dataverse with the managed identity.
@secure()
param dataverseClientSecret string = ''

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  //checkov:skip=CKV_AZURE_109:App Service resolves Key Vault references over the public endpoint unless the app has VNet integration; access is RBAC-only (see docs/deploy.md, "Network").
  //checkov:skip=CKV_AZURE_189:Same as CKV_AZURE_109 (see docs/deploy.md, "Network").
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 7
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

// Each deployment writes the value it is given as the secret's current version.
resource appSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  //checkov:skip=CKV_AZURE_41:Meta's secrets carry no expiry we know at deploy time; an expired Key Vault secret would silently break the app. Token failures raise the Meta token alert instead.
  parent: vault
  name: 'whatsapp-app-secret'
  properties: {
    value: whatsappAppSecret
    contentType: 'text/plain'
  }
}

resource verifyToken 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  //checkov:skip=CKV_AZURE_41:Meta's secrets carry no expiry we know at deploy time; an expired Key Vault secret would silently break the app. Token failures raise the Meta token alert instead.
  parent: vault
  name: 'whatsapp-verify-token'
  properties: {
    value: whatsappVerifyToken
    contentType: 'text/plain'
  }
}

resource accessToken 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  //checkov:skip=CKV_AZURE_41:Meta's secrets carry no expiry we know at deploy time; an expired Key Vault secret would silently break the app. Token failures raise the Meta token alert instead.
  parent: vault
  name: 'whatsapp-access-token'
  properties: {
    value: whatsappAccessToken
    contentType: 'text/plain'
  }
}

// Only with an app registration secret for Dataverse (function-app.bicep then refers to it).
resource dataverseSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(dataverseClientSecret)) {
  //checkov:skip=CKV_AZURE_41:An app registration's secret expires when Entra ID says, which is not known here; rotate it in Entra ID and in Key Vault together.
  //checkov:skip=CKV_AZURE_114:contentType is set below; checkov 3.3 does not read the body of a conditional (`if`) resource.
  parent: vault
  name: 'dataverse-client-secret'
  properties: {
    value: dataverseClientSecret
    contentType: 'text/plain'
  }
}

output name string = vault.name
output uri string = vault.properties.vaultUri
