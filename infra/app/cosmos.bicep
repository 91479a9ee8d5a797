// Cosmos DB for NoSQL, serverless, Entra ID only. Database `whatsapp`, container `conversations`:
// one partition per conversation, TTL on with no default expiry (only the session document sets `ttl`).
param name string
param location string
param tags object = {}

// COSMOS_DATABASE / COSMOS_CONTAINER and devhost/provision.py use the same names.
var databaseName = 'whatsapp'
var containerName = 'conversations'

resource account 'Microsoft.DocumentDB/databaseAccounts@2024-05-15' = {
  //checkov:skip=CKV_AZURE_99:Public endpoint by design (no VNet integration); keys are disabled, so only Entra ID principals holding a Cosmos DB data role get in (see docs/deploy.md, "Network").
  //checkov:skip=CKV_AZURE_101:Same as CKV_AZURE_99 (see docs/deploy.md, "Network").
  name: name
  location: location
  tags: tags
  kind: 'GlobalDocumentDB'
  properties: {
    databaseAccountOfferType: 'Standard'
    consistencyPolicy: {
      defaultConsistencyLevel: 'Session'
    }
    locations: [
      {
        locationName: location
        failoverPriority: 0
        isZoneRedundant: false
      }
    ]
    capabilities: [
      {
        name: 'EnableServerless'
      }
    ]
    // No account keys: the app signs in with its managed identity (COSMOS_KEY is never set in Azure).
    disableLocalAuth: true
    disableKeyBasedMetadataWriteAccess: true
    minimalTlsVersion: 'Tls12'
    publicNetworkAccess: 'Enabled'
  }
}

resource database 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2024-05-15' = {
  parent: account
  name: databaseName
  properties: {
    resource: {
      id: databaseName
    }
  }
}

resource container 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-05-15' = {
  parent: database
  name: containerName
  properties: {
    resource: {
      id: containerName
      partitionKey: {
        paths: [
          '/conversationId'
        ]
        kind: 'Hash'
        version: 2
      }
      // TTL on, items live forever unless they set `ttl`: the session document expires with the window.
      defaultTtl: -1
      // As shared/storage/indexing.py declares it (a test compares them): the inbox's ORDER BY on two
      // properties needs a composite index (https://learn.microsoft.com/azure/cosmos-db/index-policy#composite-indexes).
      indexingPolicy: {
        indexingMode: 'consistent'
        automatic: true
        includedPaths: [
          {
            path: '/*'
          }
        ]
        excludedPaths: [
          {
            path: '/"_etag"/?'
          }
        ]
        compositeIndexes: [
          [
            {
              path: '/lastMessageAt'
              order: 'descending'
            }
            {
              path: '/conversationId'
              order: 'descending'
            }
          ]
          [
            {
              path: '/phoneNumberId'
              order: 'ascending'
            }
            {
              path: '/lastMessageAt'
              order: 'descending'
            }
            {
              path: '/conversationId'
              order: 'descending'
            }
          ]
        ]
      }
    }
  }
}

output name string = account.name
output endpoint string = account.properties.documentEndpoint
output databaseName string = database.name
output containerName string = container.name
