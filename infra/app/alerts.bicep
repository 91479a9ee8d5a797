// Alert rules (docs/monitoring.md explains each and what to do when it fires):
//   - a message is waiting in a poison queue (dataverse-mirror-poison, media-inbound-poison)
//   - a function's failure rate is above 5 % (exceptions, or HTTP 5xx answers such as the webhook's 503)
//   - Meta refuses the access token or the app's permissions (Graph API codes 0, 3, 10, 190, 131005, 200-299)
//   - /api/health fails from two or more test locations (on once the app has answered: see healthAlertEnabled)
// Every query here is parsed and type-checked against the tables' documented columns by tests/test_kql.py
// (Microsoft's Kusto parser, tests/kql/): Azure validates a log alert's query when the rule is created, so a
// query it rejects stops `azd up`.
param location string
param tags object = {}
param resourceToken string
param applicationInsightsName string
param logAnalyticsWorkspaceId string
param healthUrl string

@description('E-mail address for the alerts; empty = no action group (alerts show in the portal only).')
param alertEmail string = ''

// The /api/health alert pages only once the app has answered 200. On a first `azd up`, azd provisions
// first and deploys the code minutes later: until then /api/health answers 404 from every location, and a
// rule switched on at creation would page the on-call for a deployment in progress. So the rule is created
// off; the postdeploy hook in azure.yaml waits for a 200, turns it on and records HEALTH_ALERT_ENABLED=true
// in the azd environment, which main.bicep passes here, so that later provisions keep it on (a provision
// that breaks the app must still page). Rejected: a rule that tolerates N minutes of failures, which would
// delay every real sev-1 page by longer than a first deployment takes (a remote build alone can take 10
// minutes). The availability test itself runs from the start: its results show in the portal either way.
@description('Whether the /api/health alert is on; false until the app has answered 200 once (azure.yaml postdeploy hook).')
param healthAlertEnabled bool = false

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

var actionGroupName = 'ag-${resourceToken}'
var actionGroups = empty(alertEmail) ? [] : [resourceId('Microsoft.Insights/actionGroups', actionGroupName)]

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = if (!empty(alertEmail)) {
  name: actionGroupName
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'whatsapp'
    enabled: true
    emailReceivers: [
      {
        name: 'operator'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

// Storage has no per-queue length metric, so the queue's own log answers: messages put into a poison
// queue since it was last cleared, minus those deleted (row_cumsum restarts at each ClearMessages).
// Stateful: it fires once when a message lands and resolves when the queue is emptied (or after a day).
// StorageQueueLogs exists in the workspace only from the first queue write that is logged, not from the
// diagnostic setting: until then naming it fails (SEM0100 Failed to resolve table), when the rule is
// created (hence skipQueryValidation below) and at every evaluation, and Azure Monitor disables a log alert
// whose query has failed for a week. `union isfuzzy=true` with an empty table of the same columns keeps the
// query valid before the first row: a fuzzy union leaves out a table that does not exist yet.
var poisonQueueQuery = '''
union isfuzzy=true
    (datatable(TimeGenerated: datetime, OperationName: string, StatusText: string, Uri: string)[]),
    StorageQueueLogs
| where OperationName in ("PutMessage", "DeleteMessage", "ClearMessages") and StatusText == "Success"
| extend Queue = tostring(split(tostring(parse_url(Uri).Path), "/")[1])
| where Queue in ("dataverse-mirror-poison", "media-inbound-poison")
| extend Delta = case(OperationName == "PutMessage", 1, OperationName == "DeleteMessage", -1, 0)
| order by Queue asc, TimeGenerated asc
| extend Waiting = row_cumsum(Delta, Queue != prev(Queue) or OperationName == "ClearMessages")
| summarize arg_max(TimeGenerated, Waiting) by Queue
| project Queue, Waiting
'''

// Created after the queue service's diagnostic setting (storage.bicep, queueDiagnostics) that feeds
// StorageQueueLogs: this module takes functionApp.outputs.url in main.bicep, and the function-app module
// takes storage.outputs.name, so the storage module with its diagnostic setting has finished before any rule
// here is created (tests/test_infra.py checks that main.bicep keeps that order).
resource poisonQueueAlert 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: 'alert-poison-queue-${resourceToken}'
  location: location
  tags: tags
  dependsOn: [actionGroup]
  properties: {
    displayName: 'WhatsApp: message in a poison queue'
    description: 'A queue message failed 5 times and was moved to a -poison queue: a mirror to Dataverse or an inbound media copy did not happen. See docs/monitoring.md.'
    severity: 2
    enabled: true
    // On a first deployment the workspace has no StorageQueueLogs table yet (see poisonQueueQuery).
    skipQueryValidation: true
    evaluationFrequency: 'PT15M'
    windowSize: 'P1D'
    scopes: [
      logAnalyticsWorkspaceId
    ]
    criteria: {
      allOf: [
        {
          query: poisonQueueQuery
          timeAggregation: 'Maximum'
          metricMeasureColumn: 'Waiting'
          operator: 'GreaterThan'
          threshold: 0
          dimensions: [
            {
              name: 'Queue'
              operator: 'Include'
              values: [
                '*'
              ]
            }
          ]
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: actionGroups
    }
  }
}

// Functions log one request per invocation. A handled failure that answers 5xx (the webhook's 503 when
// a store is down, so Meta retries) counts too; 4xx answers are the caller's problem and do not.
var failureRateQuery = '''
requests
| summarize Total = count(), Failed = countif(success == false or toint(resultCode) >= 500) by Function = operation_Name
| where Total >= 5
| extend FailureRate = round(100.0 * Failed / Total, 1)
'''

resource failureRateAlert 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: 'alert-function-failures-${resourceToken}'
  location: location
  tags: tags
  dependsOn: [actionGroup]
  properties: {
    displayName: 'WhatsApp: function failure rate above 5 %'
    description: 'More than 5 % of a function\'s invocations in 15 minutes failed or answered 5xx (at least 5 invocations). See docs/monitoring.md.'
    severity: 2
    enabled: true
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    scopes: [
      applicationInsights.id
    ]
    criteria: {
      allOf: [
        {
          query: failureRateQuery
          timeAggregation: 'Maximum'
          metricMeasureColumn: 'FailureRate'
          operator: 'GreaterThan'
          threshold: 5
          dimensions: [
            {
              name: 'Function'
              operator: 'Include'
              values: [
                '*'
              ]
            }
          ]
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: actionGroups
    }
  }
}

// The codes of shared/whatsapp/graph_errors.py AUTH_PROBLEMS: the token or the app's permissions. They
// come from the structured logs (`extra={"metaErrorCode": ...}`) and from the whatsapp.meta_errors metric.
// `Errors` must have one type in both legs of the union: `1` is a long, so the metric's sum (a real) becomes
// a long too. With an int on one side KQL keeps two columns, Errors_long and Errors_int, `sum(Errors)` names
// neither, and Azure refuses the rule when it is created (tests/test_kql.py keeps that query as a case).
var metaTokenErrorQuery = '''
let authCodes = dynamic([0, 3, 10, 190, 131005]);
union
    (traces
    | where isnotempty(customDimensions.metaErrorCode)
    | extend Code = toint(customDimensions.metaErrorCode), Errors = 1),
    (customMetrics
    | where name == "whatsapp.meta_errors"
    | extend Code = toint(customDimensions.code), Errors = tolong(valueSum))
| where Code in (authCodes) or Code between (200 .. 299)
| summarize Errors = sum(Errors) by Code = tostring(Code)
'''

resource metaTokenAlert 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: 'alert-meta-token-${resourceToken}'
  location: location
  tags: tags
  dependsOn: [actionGroup]
  properties: {
    displayName: 'WhatsApp: Meta refused the access token'
    description: 'The Graph API refused WHATSAPP_ACCESS_TOKEN or the app\'s permissions: nothing can be sent until an administrator renews the token in Key Vault. See docs/deploy.md, "Rotate the access token".'
    severity: 1
    enabled: true
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    scopes: [
      applicationInsights.id
    ]
    criteria: {
      allOf: [
        {
          query: metaTokenErrorQuery
          timeAggregation: 'Total'
          metricMeasureColumn: 'Errors'
          operator: 'GreaterThan'
          threshold: 0
          dimensions: [
            {
              name: 'Code'
              operator: 'Include'
              values: [
                '*'
              ]
            }
          ]
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: actionGroups
    }
  }
}

// Availability: GET /api/health (200 only when Cosmos DB and the queues answer) every 5 minutes. The test
// runs from the start; the alert below waits for healthAlertEnabled.
resource healthTest 'Microsoft.Insights/webtests@2022-06-15' = {
  name: 'health-${resourceToken}'
  location: location
  tags: union(tags, {
    'hidden-link:${applicationInsights.id}': 'Resource'
  })
  kind: 'standard'
  properties: {
    SyntheticMonitorId: 'health-${resourceToken}'
    Name: 'WhatsApp API health'
    Enabled: true
    Frequency: 300
    Timeout: 30
    Kind: 'standard'
    RetryEnabled: true
    Locations: [
      {
        Id: 'emea-nl-ams-azr'
      }
      {
        Id: 'emea-gb-db3-azr'
      }
      {
        Id: 'us-va-ash-azr'
      }
      {
        Id: 'us-ca-sjc-azr'
      }
      {
        Id: 'apac-sg-sin-azr'
      }
    ]
    Request: {
      RequestUrl: healthUrl
      HttpVerb: 'GET'
      ParseDependentRequests: false
    }
    ValidationRules: {
      ExpectedHttpStatusCode: 200
      SSLCheck: true
      SSLCertRemainingLifetimeCheck: 7
    }
  }
}

resource healthAlert 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: 'alert-health-${resourceToken}'
  location: 'global'
  tags: tags
  dependsOn: [actionGroup]
  properties: {
    description: 'GET /api/health failed from 2 or more locations: the app, Cosmos DB or the queues do not answer.'
    severity: 1
    // Off until the app has answered 200 once (healthAlertEnabled above).
    enabled: healthAlertEnabled
    scopes: [
      healthTest.id
      applicationInsights.id
    ]
    evaluationFrequency: 'PT1M'
    windowSize: 'PT5M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.WebtestLocationAvailabilityCriteria'
      webTestId: healthTest.id
      componentId: applicationInsights.id
      failedLocationCount: 2
    }
    actions: [
      for group in actionGroups: {
        actionGroupId: group
      }
    ]
  }
}
