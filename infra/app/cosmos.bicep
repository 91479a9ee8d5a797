// Cosmos DB for NoSQL, serverless by default, Entra ID only. Database `whatsapp`, container `conversations`:
// one partition per conversation, TTL on with no default expiry (only the session document sets `ttl`).
param name string
param location string
param tags object = {}

// Serverless serves up to 5,000 RU/s per physical partition and 1 TB per container; Meta's top tier
// (1,000 messages per second per number) needs far more: docs/capacity.md works it out.
@description('serverless (pay per request, the default) or autoscale (provisioned throughput between 10% and 100% of cosmosAutoscaleMaxThroughput). A serverless account cannot be redeployed as autoscale: change its capacity mode first (docs/capacity.md).')
@allowed([
  'serverless'
  'autoscale'
])
param cosmosThroughputMode string = 'serverless'

@description('Autoscale only: the container\'s maximum RU/s, a multiple of 1,000; it scales down to a tenth of it.')
@minValue(1000)
param cosmosAutoscaleMaxThroughput int = 1000

var serverless = cosmosThroughputMode == 'serverless'
var serverlessCapabilities = [
  {
    name: 'EnableServerless'
  }
]
// Autoscale: the container's own throughput (a serverless container takes none).
var autoscaleOptions = {
  autoscaleSettings: {
    maxThroughput: cosmosAutoscaleMaxThroughput
  }
}

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
    capabilities: serverless ? serverlessCapabilities : []
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
      // As shared/storage/indexing.py declares it (a test compares them): only the paths the queries
      // filter or sort on (id and _ts are always indexed), as every indexed term costs write RU; the
      // inbox's ORDER BY on two properties needs a composite index
      // (https://learn.microsoft.com/azure/cosmos-db/index-policy#composite-indexes).
      indexingPolicy: {
        indexingMode: 'consistent'
        automatic: true
        includedPaths: [
          {
            path: '/conversationId/?'
          }
          {
            path: '/type/?'
          }
          {
            path: '/wamid/?'
          }
          {
            path: '/sortKey/?'
          }
          {
            path: '/hidden/?'
          }
          {
            path: '/aliasOf/?'
          }
          {
            path: '/phoneNumberId/?'
          }
          {
            path: '/lastMessageAt/?'
          }
          {
            path: '/unreadCount/?'
          }
          {
            path: '/lastInbound/at/?'
          }
        ]
        excludedPaths: [
          {
            path: '/*'
          }
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
    options: serverless ? {} : autoscaleOptions
  }
}

output name string = account.name
output endpoint string = account.properties.documentEndpoint
output databaseName string = database.name
output containerName string = container.name
