"""The infrastructure (infra/, Bicep) without Azure: it parses, checkov passes, and it keeps the promises
the code relies on (TTL on, no keys anywhere, secrets only in Key Vault, every setting the code reads).

Each promise is a rule returning what breaks it, so the same rule is run on infra/ as it is (nothing
may break) and on a copy with one deliberate mistake (the mistake must be reported).
checkov runs once per session in its own virtualenv (.venv/checkov, see infra/README.md): its pinned
dependencies cannot share a virtualenv with pytest.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast, get_args

import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML comes with schemathesis, without stubs
from pycep import BicepParser
from pydantic import AliasChoices, SecretStr
from pytest_httpserver import HTTPServer

from shared import telemetry
from shared.config import Settings
from shared.storage.names import ALL_QUEUES, POISON_SUFFIX
from shared.whatsapp.graph_errors import AUTH_PROBLEMS

ROOT = Path(__file__).resolve().parents[1]
INFRA = ROOT / "infra"
BICEP_FILES = sorted(INFRA.rglob("*.bicep"))

# Settings the code reads that Azure must NOT get, and why. Everything else in shared/config.py must be set.
NOT_SET_IN_AZURE = {
    "AUTH_DISABLED": "skips the Entra ID token check; only the local host sets it",
    "COSMOS_KEY": "its absence selects the managed identity, and the account has key auth disabled",
    "AZURE_WEBJOBS_STORAGE": "a connection string needs an account key; Azure uses AzureWebJobsStorage__*",
    "WEBSITE_SITE_NAME": "App Service sets it on every app; the code reads it to know it runs in Azure",
    "WEBSITE_INSTANCE_ID": "App Service sets it on every instance, for the same reason",
}
KEY_VAULT_REFERENCE = "@Microsoft.KeyVault(SecretUri="
ROLE_IDS = {
    "Storage Blob Data Owner": "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
    "Storage Queue Data Contributor": "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
    "Key Vault Secrets User": "4633458b-17de-408a-b874-0445c86b69e6",
    "Monitoring Metrics Publisher": "3913510d-42f4-4e42-8a64-420c390055eb",
}
COSMOS_DATA_CONTRIBUTOR = "00000000-0000-0000-0000-000000000002"
SKIP_COMMENT = re.compile(r"checkov:skip=([A-Z0-9_]+)(?::(.*))?")


# ---- reading the Bicep ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Bicep:
    """One parsed .bicep file (pycep's JSON), with variable references resolved on request."""

    path: str
    doc: dict[str, Any]

    def resolve(self, value: Any) -> Any:
        variables = self.doc.get("variables", {})
        while isinstance(value, str) and value in variables:
            value = variables[value]["value"]
        return value

    def interpolate(self, text: str) -> str:
        return re.sub(r"\$\{(\w+)\}", lambda m: str(self.resolve(m.group(1))), text)

    def variable(self, name: str) -> Any:
        return self.resolve(self.doc["variables"][name]["value"])

    def resources(self, type_: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for name, resource in self.doc.get("resources", {}).items():
            if resource["type"].lower() == type_.lower() and not resource.get("existing"):
                body = resource["config"]
                while isinstance(body.get("config"), dict) and ("condition" in body or "loop_type" in body):
                    body = body["config"]  # an `if` or `for` resource wraps its body once more
                yield name, body

    def names(self, type_: str) -> list[str]:
        """Names of the resources of a type; a `for` loop over a variable counts each of its items."""
        names: list[str] = []
        for resource in self.doc.get("resources", {}).values():
            if resource["type"].lower() == type_.lower() and not resource.get("existing"):
                loop = resource["config"].get("loop_type")
                if loop:
                    names.extend(self.resolve(loop["detail"]["array_name"]))
                else:
                    names.append(self.resolve(resource["config"].get("config", resource["config"])["name"]))
        return names


@dataclass(frozen=True)
class Infra:
    files: dict[str, Bicep]

    @classmethod
    def load(cls, root: Path) -> Infra:
        parser = BicepParser()
        files = {}
        for path in sorted(root.rglob("*.bicep")):
            name = path.relative_to(root).as_posix()
            files[name] = Bicep(name, cast(dict[str, Any], parser.parse(file_path=path)))
        return cls(files)

    def resources(self, type_: str) -> list[tuple[Bicep, str, dict[str, Any]]]:
        return [(bicep, name, body) for bicep in self.files.values() for name, body in bicep.resources(type_)]

    def one(self, type_: str) -> tuple[Bicep, dict[str, Any]]:
        found = self.resources(type_)
        assert len(found) == 1, f"expected one {type_}, found {[name for _, name, _ in found]}"
        return found[0][0], found[0][2]


def dig(body: dict[str, Any], path: str) -> Any:
    value: Any = body
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    operator = value.get("operator") if isinstance(value, dict) else None
    if isinstance(operator, dict) and operator.get("type") == "minus":  # pycep writes -1 as minus(1)
        return -operator["operands"]["integer_value"]
    return value


def expect(violations: list[str], what: str, actual: Any, wanted: Any) -> None:
    if actual != wanted:
        violations.append(f"{what}: is {actual!r}, must be {wanted!r}")


# ---- the rules: each returns what breaks it ----------------------------------------------------------
def cosmos_violations(infra: Infra) -> list[str]:
    found: list[str] = []
    bicep, account = infra.one("Microsoft.DocumentDB/databaseAccounts")
    expect(found, "Cosmos DB disableLocalAuth", dig(account, "properties.disableLocalAuth"), True)
    expect(found, "Cosmos DB minimalTlsVersion", dig(account, "properties.minimalTlsVersion"), "Tls12")
    capabilities = dig(account, "properties.capabilities")
    if isinstance(capabilities, dict):  # `serverless ? serverlessCapabilities : []`
        mode = dig(bicep.doc, "parameters.cosmosThroughputMode.default")
        expect(found, "Cosmos DB cosmosThroughputMode default", mode, "serverless")
        capabilities = bicep.resolve(dig(capabilities, "operator.operands.true_value"))
    names = [c.get("name") for c in capabilities or []]
    expect(found, "Cosmos DB serverless", "EnableServerless" in names, True)
    bicep, database = infra.one("Microsoft.DocumentDB/databaseAccounts/sqlDatabases")
    expect(found, "database name", bicep.resolve(database["name"]), Settings().COSMOS_DATABASE)
    bicep, container = infra.one("Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers")
    expect(found, "container name", bicep.resolve(container["name"]), Settings().COSMOS_CONTAINER)
    expect(
        found,
        "container partition key",
        dig(container, "properties.resource.partitionKey.paths"),
        ["/conversationId"],
    )
    expect(
        found,
        "container defaultTtl (TTL on, no default expiry)",
        dig(container, "properties.resource.defaultTtl"),
        -1,
    )
    return found


def storage_violations(infra: Infra) -> list[str]:
    found: list[str] = []
    bicep, account = infra.one("Microsoft.Storage/storageAccounts")
    expect(found, "storage allowSharedKeyAccess", dig(account, "properties.allowSharedKeyAccess"), False)
    expect(found, "storage allowBlobPublicAccess", dig(account, "properties.allowBlobPublicAccess"), False)
    expect(found, "storage minimumTlsVersion", dig(account, "properties.minimumTlsVersion"), "TLS1_2")
    expect(
        found, "storage supportsHttpsTrafficOnly", dig(account, "properties.supportsHttpsTrafficOnly"), True
    )
    containers = {
        bicep.resolve(c["name"]): c
        for _, _, c in infra.resources("Microsoft.Storage/storageAccounts/blobServices/containers")
    }
    for name, container in containers.items():
        expect(
            found, f"blob container {name} publicAccess", dig(container, "properties.publicAccess"), "None"
        )
    expect(found, "media container exists", Settings().MEDIA_CONTAINER in containers, True)
    queues = [
        q
        for b in infra.files.values()
        for q in b.names("Microsoft.Storage/storageAccounts/queueServices/queues")
    ]
    expect(found, "queues (shared/storage/names.py)", sorted(queues), sorted(ALL_QUEUES))
    return found


def web_violations(infra: Infra) -> list[str]:
    found: list[str] = []
    _, plan = infra.one("Microsoft.Web/serverfarms")
    expect(found, "plan sku", (dig(plan, "sku.tier"), dig(plan, "sku.name")), ("FlexConsumption", "FC1"))
    _, site = infra.one("Microsoft.Web/sites")
    expect(found, "httpsOnly", dig(site, "properties.httpsOnly"), True)
    expect(found, "minTlsVersion", dig(site, "properties.siteConfig.minTlsVersion"), "1.2")
    expect(found, "scmMinTlsVersion", dig(site, "properties.siteConfig.scmMinTlsVersion"), "1.2")
    expect(found, "ftpsState (FTP off)", dig(site, "properties.siteConfig.ftpsState"), "Disabled")
    runtime = dig(site, "properties.functionAppConfig.runtime")
    expect(found, "runtime", (dig(runtime, "name"), dig(runtime, "version")), ("python", "3.11"))
    expect(found, "identity", dig(site, "identity.type"), "UserAssigned")
    expect(
        found, "keyVaultReferenceIdentity set", bool(dig(site, "properties.keyVaultReferenceIdentity")), True
    )
    expect(
        found,
        "CORS from allowedOrigins",
        dig(site, "properties.siteConfig.cors.allowedOrigins"),
        "corsOrigins",
    )
    policies = {
        b.resolve(p["name"]): dig(p, "properties.allow")
        for b, _, p in infra.resources("Microsoft.Web/sites/basicPublishingCredentialsPolicies")
    }
    expect(found, "basic publishing credentials", policies, {"ftp": False, "scm": False})
    return found


def identity_violations(infra: Infra) -> list[str]:
    found: list[str] = []
    _, vault = infra.one("Microsoft.KeyVault/vaults")
    expect(found, "Key Vault RBAC authorisation", dig(vault, "properties.enableRbacAuthorization"), True)
    expect(found, "Key Vault purge protection", dig(vault, "properties.enablePurgeProtection"), True)
    _, insights = infra.one("Microsoft.Insights/components")
    expect(found, "Application Insights DisableLocalAuth", dig(insights, "properties.DisableLocalAuth"), True)
    assigned = {
        b.resolve(dig(r, "properties.roleDefinitionId.function.parameters.resource_name_1"))
        for b, _, r in infra.resources("Microsoft.Authorization/roleAssignments")
    }
    for role, role_id in ROLE_IDS.items():
        expect(found, f"role assignment {role}", role_id in assigned, True)
    cosmos = [
        b.interpolate(str(dig(r, "properties.roleDefinitionId")))
        for b, _, r in infra.resources("Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments")
    ]
    expect(
        found,
        "Cosmos DB Built-in Data Contributor (SQL role assignment)",
        [c.rsplit("/", 1)[-1] for c in cosmos],
        [COSMOS_DATA_CONTRIBUTOR],
    )
    return found


SECRET_NAME = re.compile(r"secret|password|token|connection_?string|key", re.IGNORECASE)
SECRET_VALUE = re.compile(
    r"list(Keys|ConnectionStrings|Credentials|AccountSas|ServiceSas)|ConnectionString|primaryKey|InstrumentationKey"
)


def output_violations(infra: Infra) -> list[str]:
    """Outputs end up in deployment history and azd's .env file: nothing secret may be among them."""
    found: list[str] = []
    for bicep in infra.files.values():
        secure = {
            n for n, p in bicep.doc.get("parameters", {}).items() if {"type": "secure"} in p["decorators"]
        }
        for name, output in bicep.doc.get("outputs", {}).items():
            value = json.dumps(output["value"])
            if SECRET_NAME.search(name.lower().replace("key_vault", "").replace("keyvault", "")):
                found.append(f"{bicep.path}: output {name} is named like a secret")
            if SECRET_VALUE.search(value) or any(re.search(rf"\b{p}\b", value) for p in secure):
                found.append(f"{bicep.path}: output {name} exposes a secret: {value}")
    return found


def setting_names_read_by_code() -> dict[str, tuple[str, ...]]:
    """Each Settings field and the environment names it answers to (its aliases)."""
    names: dict[str, tuple[str, ...]] = {}
    for field, info in Settings.model_fields.items():
        alias = info.validation_alias
        choices = alias.choices if isinstance(alias, AliasChoices) else [alias or field]
        names[field] = tuple(str(c) for c in choices if isinstance(c, str))
    return names


def app_settings(infra: Infra) -> dict[str, Any]:
    """Every app setting infra gives the Function App (the conditional ones included), name -> value."""
    bicep = infra.files["app/function-app.bicep"]
    entries = list(bicep.variable("appSettings"))
    conditional = bicep.variable("dataverseSecretSetting")
    for branch in ("true_value", "false_value"):
        entries += [bicep.resolve(e) for e in dig(conditional, f"operator.operands.{branch}") or []]
    return {entry["name"]: entry["value"] for entry in entries}


def settings_violations(infra: Infra) -> list[str]:
    found: list[str] = []
    given = app_settings(infra)
    reference = infra.files["app/function-app.bicep"].variable("secretReference")
    expect(found, "Key Vault reference prefix", str(reference).startswith(KEY_VAULT_REFERENCE), True)
    for field, names in setting_names_read_by_code().items():
        present = [n for n in names if n in given]
        if field in NOT_SET_IN_AZURE:
            if present:
                found.append(f"{present[0]} must not be set in Azure: {NOT_SET_IN_AZURE[field]}")
            continue
        if not present:
            found.append(f"the code reads {' or '.join(names)} but infra does not set it")
            continue
        annotation = Settings.model_fields[field].annotation
        if SecretStr in (annotation, *get_args(annotation)) and not str(given[present[0]]).startswith(
            "${secretReference}"
        ):
            found.append(
                f"{present[0]} is a secret and must be a Key Vault reference, not {given[present[0]]!r}"
            )
    return found


def alert_violations(infra: Infra) -> list[str]:
    """The alert queries name what the code produces: poison queues, Meta's auth codes, the metric name."""
    found: list[str] = []
    alerts = infra.files["app/alerts.bicep"]
    poison = alerts.variable("poisonQueueQuery")
    for queue in (q for q in ALL_QUEUES if q.endswith(POISON_SUFFIX)):
        expect(found, f"poison alert watches {queue}", f'"{queue}"' in poison, True)
    token = alerts.variable("metaTokenErrorQuery")
    listed = {int(c) for c in re.search(r"dynamic\(\[([\d,\s]+)\]\)", token).group(1).split(",")}
    low, high = (int(n) for n in re.search(r"between \((\d+) \.\. (\d+)\)", token).groups())
    expect(
        found,
        "Meta token alert codes (graph_errors.AUTH_PROBLEMS)",
        listed | set(range(low, high + 1)),
        set(AUTH_PROBLEMS),
    )
    expect(found, "Meta token alert reads the metric", f'"{telemetry.META_ERRORS}"' in token, True)
    found += first_deployment_violations(infra)
    return found


def first_deployment_violations(infra: Infra) -> list[str]:
    """What a first `azd up` needs from the alerts: rules Azure accepts before any log exists, created after
    the logs' diagnostic setting, and no availability page before the code is deployed."""
    found: list[str] = []
    alerts = infra.files["app/alerts.bicep"]
    for _, name, rule in infra.resources("Microsoft.Insights/scheduledQueryRules"):
        # A workspace table exists only from its first row: Azure refuses to create a rule naming it before.
        if any("workspace" in json.dumps(scope).lower() for scope in dig(rule, "properties.scopes") or []):
            expect(found, f"{name} skipQueryValidation", dig(rule, "properties.skipQueryValidation"), True)
    # The alerts module runs after the storage module (queueDiagnostics feeds StorageQueueLogs).
    after_storage = "storage" in module_dependencies(infra, "alerts")
    expect(found, "alerts module comes after the storage module", after_storage, True)
    # The health alert: off at creation, on once the postdeploy hook has seen /api/health answer 200.
    (health,) = [
        rule for name, rule in alerts.resources("Microsoft.Insights/metricAlerts") if name == "healthAlert"
    ]
    enabled = health["properties"]["enabled"]
    parameter = alerts.doc["parameters"].get(enabled) if isinstance(enabled, str) else None
    expect(found, "health alert enabled by a parameter", parameter is not None, True)
    expect(found, "health alert parameter's default", (parameter or {}).get("default"), False)
    # main.bicep passes the azd value on, or every later provision would turn the alert off again.
    alerts_params = infra.files["main.bicep"].doc["modules"]["alerts"]["config"]["params"]
    expect(
        found, "alerts gets healthAlertEnabled", alerts_params.get("healthAlertEnabled"), "healthAlertEnabled"
    )
    # The hook finds the rule by the Function App's name: both are named after resourceToken.
    function_app = infra.files["main.bicep"].doc["modules"]["functionApp"]["config"]
    expect(found, "Function App name", function_app["params"]["name"], "func-${resourceToken}")
    expect(found, "health alert name", health["name"], "alert-health-${resourceToken}")
    return found


def module_dependencies(infra: Infra, module: str) -> set[str]:
    """The modules of main.bicep that `module` waits for: dependsOn, or any use of their outputs."""
    modules = infra.files["main.bicep"].doc["modules"]

    def direct(name: str) -> set[str]:
        config = modules[name]["config"]
        text = json.dumps(config.get("params", {}))
        accessor = (  # pycep's `name.outputs.x`
            '"operand_1": "{}", "operand_2": {{"operator": {{"type": "property_accessor", '
            '"operands": {{"operand_1": "outputs"'
        )
        uses = {other for other in modules if f"{other}.outputs." in text or accessor.format(other) in text}
        return uses | set(config.get("dependsOn", []))

    waits: set[str] = set()
    todo = [module]
    while todo:
        for other in direct(todo.pop()) - waits:
            waits.add(other)
            todo.append(other)
    return waits


# A sample of the Flex Consumption regions in the list main.bicep cites (infra/README.md, "Region"): its
# `@allowed` must keep at least these. Whether Azure still offers them is `az`'s to say, not this test's.
FLEX_CONSUMPTION_REGIONS = {
    "eastus",
    "eastus2",
    "westus2",
    "northeurope",
    "westeurope",
    "swedencentral",
    "uksouth",
    "australiaeast",
    "southeastasia",
    "eastasia",
}
EARLY_ACCESS_REGIONS = {"eastus2euap", "centraluseuap"}  # canary: only enrolled subscriptions deploy there
REQUIRED_SECRETS = ("whatsappAppSecret", "whatsappVerifyToken", "whatsappAccessToken")
OPTIONAL_SECRETS = ("dataverseClientSecret",)


def decorator(parameter: dict[str, Any], type_: str) -> Any:
    """A parameter decorator's argument (True for one without), or None when it is absent."""
    for found in parameter.get("decorators", []):
        if found.get("type") == type_:
            return found.get("argument", True)
    return None


def parameter_violations(infra: Infra) -> list[str]:
    """The region list azd offers, and the WhatsApp secrets: secure, required and never empty."""
    found: list[str] = []
    location = infra.files["main.bicep"].doc["parameters"]["location"]
    allowed = decorator(location, "allowed") or []
    expect(found, "location is limited by an @allowed list of regions", bool(allowed), True)
    if missing := sorted(FLEX_CONSUMPTION_REGIONS - set(allowed)):
        found.append(f"location @allowed lacks Flex Consumption regions: {missing}")
    if early := sorted(EARLY_ACCESS_REGIONS & set(allowed)):
        found.append(f"location @allowed offers early-access regions: {early}")
    if odd := [r for r in allowed if not re.fullmatch(r"[a-z]+[0-9]?", str(r))]:
        found.append(f"location @allowed has values that are not region names: {odd}")
    expect(found, "location @allowed without repeats", len(set(allowed)) == len(allowed), True)
    expect(found, "location azd metadata", decorator(location, "metadata"), {"azd": {"type": "location"}})

    for file in ("main.bicep", "app/key-vault.bicep"):
        parameters = infra.files[file].doc["parameters"]
        for name in REQUIRED_SECRETS:
            parameter = parameters[name]
            expect(found, f"{file}: {name} @secure()", decorator(parameter, "secure"), True)
            expect(found, f"{file}: {name} required (no default)", parameter.get("default"), None)
            expect(
                found, f"{file}: {name} @minLength(1)", (decorator(parameter, "min_length") or 0) >= 1, True
            )
        for name in OPTIONAL_SECRETS:
            parameter = parameters[name]
            expect(found, f"{file}: {name} @secure()", decorator(parameter, "secure"), True)
            expect(found, f"{file}: {name} optional (default empty)", parameter.get("default"), "")
    bicep = infra.files["app/key-vault.bicep"]
    for resource in bicep.doc["resources"].values():
        if resource["type"].lower() != "microsoft.keyvault/vaults/secrets":
            continue
        body = resource["config"]
        name = str(bicep.resolve((body.get("config") or body).get("name")))
        if name.startswith("whatsapp-") and "condition" in body:
            found.append(f"{name} is written only on a condition, but the app always refers to it")
    return found


RULES: dict[str, Callable[[Infra], list[str]]] = {
    "cosmos": cosmos_violations,
    "storage": storage_violations,
    "web": web_violations,
    "identity": identity_violations,
    "outputs": output_violations,
    "settings": settings_violations,
    "alerts": alert_violations,
    "parameters": parameter_violations,
}


# ---- fixtures -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def infra() -> Infra:
    return Infra.load(INFRA)


def checkov_executable() -> str:
    candidates = [
        os.environ.get("CHECKOV"),
        ROOT / ".venv/checkov/bin/checkov",
        Path(sys.executable).with_name("checkov"),
    ]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return str(candidate)
    found = shutil.which("checkov")
    if found is None:
        pytest.fail("checkov is not installed: see infra/README.md (make install creates .venv/checkov)")
    return found


def run_checkov(*args: str) -> list[dict[str, Any]]:
    """checkov's JSON reports; --skip-download keeps it offline (no Prisma Cloud guideline lookups)."""
    command = [checkov_executable(), *args, "--skip-download", "--compact", "--output", "json"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)  # noqa: S603
    if result.returncode not in (0, 1):
        pytest.fail(f"checkov crashed ({result.returncode}): {result.stderr[-2000:]}")
    reports = json.loads(result.stdout)
    return reports if isinstance(reports, list) else [reports]


@pytest.fixture(scope="session")
def checkov_reports() -> list[dict[str, Any]]:
    return run_checkov("--directory", str(INFRA), "--framework", "bicep", "secrets")


# ---- parsing -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", BICEP_FILES, ids=[p.relative_to(INFRA).as_posix() for p in BICEP_FILES])
def test_every_bicep_file_parses(path: Path) -> None:
    assert BicepParser().parse(file_path=path)


def test_azd_finds_the_template_and_the_function_app(infra: Infra) -> None:
    project = yaml.safe_load((ROOT / "azure.yaml").read_text())
    assert project["infra"] == {"provider": "bicep", "path": "infra", "module": "main"}
    assert project["services"]["api"] == {"project": ".", "language": "python", "host": "function"}
    _, site = infra.one("Microsoft.Web/sites")
    assert dig(site, "tags.function.parameters.arg_2") == {"'azd-service-name'": "api"}


def test_every_parameter_without_a_default_comes_from_the_azd_environment(infra: Infra) -> None:
    declared = infra.files["main.bicep"].doc["parameters"]
    given = json.loads((INFRA / "main.parameters.json").read_text())["parameters"]
    assert set(given) <= set(declared)
    assert {n for n, p in declared.items() if p.get("default") is None} <= set(given)
    secure = {n for n, p in declared.items() if {"type": "secure"} in p["decorators"]}
    # A secret is never written into the parameters file, only taken from the azd environment.
    assert {n: given[n]["value"] for n in secure} == {n: "${" + environment_name(n) + "}" for n in secure}


def environment_name(parameter: str) -> str:
    """whatsappAccessToken -> WHATSAPP_ACCESS_TOKEN: the azd variable named like the app setting."""
    return re.sub(r"(?<!^)([A-Z])", r"_\1", parameter).upper()


# ---- checkov ---------------------------------------------------------------------------------------
def test_checkov_passes_every_bicep_check(checkov_reports: list[dict[str, Any]]) -> None:
    failed = [
        f"{c['check_id']} {c['resource']} ({c['file_path']}): {c['check_name']}"
        for report in checkov_reports
        for c in report["results"]["failed_checks"]
    ]
    assert failed == []


def test_checkov_reads_every_file_and_finds_resources(checkov_reports: list[dict[str, Any]]) -> None:
    (bicep,) = [r for r in checkov_reports if r["check_type"] == "bicep"]
    assert bicep["summary"]["parsing_errors"] == 0
    assert bicep["summary"]["passed"] >= 30


def test_every_skipped_check_says_why_and_still_applies(checkov_reports: list[dict[str, Any]]) -> None:
    skipped = {
        (c["file_path"].lstrip("/"), c["check_id"])
        for report in checkov_reports
        for c in report["results"]["skipped_checks"]
    }
    comments = set()
    for path in BICEP_FILES:
        for line in path.read_text().splitlines():
            if match := SKIP_COMMENT.search(line):
                check, reason = match.groups()
                assert reason, f"{path.name}: skip of {check} has no reason"
                assert len(reason.strip()) >= 30, f"{path.name}: skip of {check} needs a real reason"
                comments.add((path.relative_to(INFRA).as_posix(), check))
    assert comments == skipped  # no skip comment that checkov no longer needs


def test_checkov_bites_on_a_weakened_storage_account(tmp_path: Path) -> None:
    copy = tmp_path / "storage.bicep"
    copy.write_text((INFRA / "app/storage.bicep").read_text().replace("'TLS1_2'", "'TLS1_0'"))
    (report,) = run_checkov("--file", str(copy), "--framework", "bicep", "--check", "CKV_AZURE_44")
    assert [c["check_id"] for c in report["results"]["failed_checks"]] == ["CKV_AZURE_44"]


# ---- the promises -----------------------------------------------------------------------------------
@pytest.mark.parametrize("rule", RULES)
def test_infra_keeps_its_promises(infra: Infra, rule: str) -> None:
    assert RULES[rule](infra) == []


def test_every_local_setting_is_set_in_azure_or_documented(infra: Infra) -> None:
    local = json.loads((ROOT / "local.settings.sample.json").read_text())["Values"]
    deploy = (ROOT / "docs/deploy.md").read_text()
    documented = deploy[deploy.index("## Settings Azure does not get") :]
    missing = [key for key in local if key not in app_settings(infra) and f"`{key}`" not in documented]
    assert missing == []


# Deliberate mistakes: (rule, file, text as it is, the mistake, what the rule must say)
MISTAKES = [
    ("cosmos", "app/cosmos.bicep", "      defaultTtl: -1\n", "", "defaultTtl"),
    ("cosmos", "app/cosmos.bicep", "disableLocalAuth: true", "disableLocalAuth: false", "disableLocalAuth"),
    (
        "storage",
        "app/storage.bicep",
        "allowSharedKeyAccess: false",
        "allowSharedKeyAccess: true",
        "allowSharedKeyAccess",
    ),
    ("storage", "app/storage.bicep", "  'media-inbound-poison'\n", "", "queues"),
    ("web", "app/function-app.bicep", "ftpsState: 'Disabled'", "ftpsState: 'AllAllowed'", "FTP off"),
    ("web", "app/function-app.bicep", "httpsOnly: true", "httpsOnly: false", "httpsOnly"),
    ("settings", "app/function-app.bicep", "name: 'AUTH_AUDIENCE'", "name: 'AUDIENCE'", "AUTH_AUDIENCE"),
    (
        "settings",
        "app/function-app.bicep",
        "name: 'AUTH_REQUIRED_ROLE'",
        "name: 'AUTH_DISABLED'",
        "AUTH_DISABLED must not",
    ),
    (
        "settings",
        "app/function-app.bicep",
        "name: 'MEDIA_URL_MINUTES'",
        "name: 'COSMOS_KEY'",
        "COSMOS_KEY must not",
    ),
    (
        "settings",
        "app/function-app.bicep",
        "'${secretReference}whatsapp-access-token)'",
        "accessToken",
        "WHATSAPP_ACCESS_TOKEN is a secret",
    ),
    (
        "outputs",
        "app/key-vault.bicep",
        "output name string",
        "output leak string = whatsappAccessToken\noutput name string",
        "exposes a secret",
    ),
    (
        "identity",
        "app/monitoring.bicep",
        "DisableLocalAuth: true",
        "DisableLocalAuth: false",
        "DisableLocalAuth",
    ),
    ("alerts", "app/alerts.bicep", "dynamic([0, 3, 10, 190, 131005])", "dynamic([190])", "AUTH_PROBLEMS"),
    (
        "alerts",
        "app/alerts.bicep",
        "    skipQueryValidation: true\n",
        "",
        "poisonQueueAlert skipQueryValidation",
    ),
    ("alerts", "app/alerts.bicep", "enabled: healthAlertEnabled", "enabled: true", "health alert enabled"),
    (
        "alerts",
        "app/alerts.bicep",
        "healthAlertEnabled bool = false",
        "healthAlertEnabled bool = true",
        "default",
    ),
    (
        "alerts",
        "main.bicep",
        "healthUrl: '${functionApp.outputs.url}/api/health'",
        "healthUrl: 'https://example.org/api/health'",
        "after the storage module",
    ),
    ("parameters", "main.bicep", "  'northeurope'\n", "", "northeurope"),
    ("parameters", "main.bicep", "  'eastus2'\n", "  'eastus2'\n  'eastus2euap'\n", "eastus2euap"),
    ("parameters", "main.bicep", "  'uksouth'\n", "  'UK South'\n", "not region names"),
    (
        "parameters",
        "main.bicep",
        "@metadata({ azd: { type: 'location' } })\n",
        "",
        "location azd metadata",
    ),
    (
        "parameters",
        "main.bicep",
        "param whatsappVerifyToken string\n",
        "param whatsappVerifyToken string = ''\n",
        "main.bicep: whatsappVerifyToken required",
    ),
    (
        "parameters",
        "main.bicep",
        "@minLength(1)\n@description('System-user access token",
        "@description('System-user access token",
        "main.bicep: whatsappAccessToken @minLength(1)",
    ),
    (
        "parameters",
        "main.bicep",
        "@secure()\n@minLength(1)\n@description('Meta app secret",
        "@minLength(1)\n@description('Meta app secret",
        "main.bicep: whatsappAppSecret @secure()",
    ),
    (
        "parameters",
        "main.bicep",
        "param dataverseClientSecret string = ''",
        "param dataverseClientSecret string",
        "main.bicep: dataverseClientSecret optional",
    ),
    (
        "parameters",
        "app/key-vault.bicep",
        "@minLength(1)\nparam whatsappAppSecret string",
        "param whatsappAppSecret string",
        "app/key-vault.bicep: whatsappAppSecret @minLength(1)",
    ),
    (
        "parameters",
        "app/key-vault.bicep",
        "resource accessToken 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {",
        "resource accessToken 'Microsoft.KeyVault/vaults/secrets@2023-07-01'"
        " = if (!empty(whatsappAccessToken)) {",
        "whatsapp-access-token is written only on a condition",
    ),
]


@pytest.mark.parametrize(
    ("rule", "file", "text", "mistake", "message"), MISTAKES, ids=[f"{m[0]}:{m[4]}" for m in MISTAKES]
)
def test_a_deliberate_mistake_is_reported(
    tmp_path: Path, rule: str, file: str, text: str, mistake: str, message: str
) -> None:
    copy = tmp_path / "infra"
    shutil.copytree(INFRA, copy)
    target = copy / file
    original = target.read_text()
    assert text in original, f"{file} no longer contains {text!r}: update this test"
    target.write_text(original.replace(text, mistake, 1))
    violations = RULES[rule](Infra.load(copy))
    assert any(message in v for v in violations), violations


# ---- telemetry settings: as Microsoft documents OpenTelemetry for Python (infra/README.md, "Telemetry") ----
def telemetry_violations(host: dict[str, Any], settings: dict[str, Any], requirements: str) -> list[str]:
    found: list[str] = []
    expect(found, "host.json telemetryMode", host.get("telemetryMode"), "OpenTelemetry")
    expect(
        found,
        "host.json logging.applicationInsights (ignored when telemetryMode is OpenTelemetry)",
        "applicationInsights" in host.get("logging", {}),
        False,
    )
    expect(
        found,
        "PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY",
        settings.get("PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY"),
        "true",
    )
    expect(
        found,
        "APPLICATIONINSIGHTS_AUTHENTICATION_STRING (Entra ID for the host and the worker)",
        "Authorization=AAD" in str(settings.get("APPLICATIONINSIGHTS_AUTHENTICATION_STRING")),
        True,
    )
    expect(
        found,
        "azure-monitor-opentelemetry in requirements.txt",
        bool(re.search(r"^azure-monitor-opentelemetry\b", requirements, re.MULTILINE)),
        True,
    )
    return found


def telemetry_inputs(infra: Infra) -> tuple[dict[str, Any], dict[str, Any], str]:
    host = json.loads((ROOT / "host.json").read_text())
    return host, app_settings(infra), (ROOT / "requirements.txt").read_text()


def test_telemetry_is_set_up_as_microsoft_documents(infra: Infra) -> None:
    assert telemetry_violations(*telemetry_inputs(infra)) == []


@pytest.mark.parametrize(
    ("mistake", "message"),
    [
        ("no telemetryMode", "telemetryMode"),
        ("sampling settings back", "logging.applicationInsights"),
        ("worker telemetry off", "PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY"),
        ("no distro", "azure-monitor-opentelemetry"),
    ],
)
def test_a_telemetry_mistake_is_reported(infra: Infra, mistake: str, message: str) -> None:
    host, settings, requirements = telemetry_inputs(infra)
    host, settings = json.loads(json.dumps(host)), dict(settings)
    if mistake == "no telemetryMode":
        del host["telemetryMode"]
    elif mistake == "sampling settings back":
        host["logging"]["applicationInsights"] = {"samplingSettings": {"isEnabled": True}}
    elif mistake == "worker telemetry off":
        settings["PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY"] = "false"
    else:
        requirements = requirements.replace("azure-monitor-opentelemetry", "opentelemetry-sdk")
    assert any(message in v for v in telemetry_violations(host, settings, requirements))


# ---- infra/README.md names only what exists ---------------------------------------------------------
_CODE_SPAN = re.compile(r"`([^`\s]+)`")
_REPO_PATH = re.compile(r"(?:[A-Za-z0-9_-]+/)+[A-Za-z0-9_.-]*")  # infra/app/, shared/dataverse/schema.py
_FILE_NAME = re.compile(r"[A-Za-z0-9_-]+\.(?:bicep|json|py|txt|yaml|md)")  # identity.bicep, host.json
_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def readme_path_violations(text: str) -> list[str]:
    """Paths in code spans exist (from the repository root or from infra/), bare file names exist at the
    root or in infra/ or infra/app/, relative links resolve from infra/, and every module is described."""
    found: list[str] = []
    for token in _CODE_SPAN.findall(text):
        exists = (
            (ROOT / token).exists() or (INFRA / token).exists()
            if _REPO_PATH.fullmatch(token)
            else not _FILE_NAME.fullmatch(token)
            or any((folder / token).is_file() for folder in (ROOT, INFRA, INFRA / "app"))
        )
        if not exists:
            found.append(f"infra/README.md names {token}, which does not exist")
    for target in _LINK.findall(text):
        if not target.startswith(("http://", "https://")) and not (INFRA / target).exists():
            found.append(f"infra/README.md links to {target}, which does not exist")
    for module in sorted((INFRA / "app").glob("*.bicep")):
        if f"`{module.name}`" not in text:
            found.append(f"infra/README.md does not describe app/{module.name}")
    return found


def test_the_infra_readme_names_only_what_exists() -> None:
    assert readme_path_violations((INFRA / "README.md").read_text()) == []


@pytest.mark.parametrize(
    ("added", "message"),
    [
        ("`infra/dataverse/` belongs to the Dataverse mirror.", "infra/dataverse/"),
        ("| `queues.bicep` | the queues |", "queues.bicep"),
        ("See [the runbook](../docs/runbook.md).", "../docs/runbook.md"),
    ],
)
def test_a_readme_naming_what_does_not_exist_is_reported(added: str, message: str) -> None:
    text = (INFRA / "README.md").read_text() + "\n" + added + "\n"
    assert any(message in v for v in readme_path_violations(text))


def test_a_readme_leaving_out_a_module_is_reported() -> None:
    text = (INFRA / "README.md").read_text().replace("`alerts.bicep`", "alerts")
    assert "infra/README.md does not describe app/alerts.bicep" in readme_path_violations(text)


def test_the_deploy_guide_names_every_azd_variable() -> None:
    """Every value main.parameters.json takes from the azd environment (azd's own AZURE_* aside)."""
    parameters = (INFRA / "main.parameters.json").read_text()
    variables = {v for v in re.findall(r"\$\{([A-Z0-9_]+)", parameters) if not v.startswith("AZURE_")}
    guide = (ROOT / "docs/deploy.md").read_text()
    assert len(variables) > 20
    assert sorted(v for v in variables if f"`{v}`" not in guide and f"set {v} " not in guide) == []


def test_the_region_the_deploy_guide_uses_is_offered(infra: Infra) -> None:
    allowed = decorator(infra.files["main.bicep"].doc["parameters"]["location"], "allowed")
    used = re.findall(r"--location ([a-z0-9]+)", (ROOT / "docs/deploy.md").read_text())
    assert used
    assert set(used) <= set(allowed)


# ---- the postdeploy hook that turns the /api/health alert on -----------------------------------------
FAKE_COMMANDS = {
    "azd": 'echo "azd $*" >> "$CALLS"',
    "az": 'echo "az $*" >> "$CALLS"; exit "${AZ_EXIT:-0}"',
    "sleep": "exit 0",
    # A clock that moves a minute each time it is read, so the 15-minute wait ends at once.
    "date": 'now=$(cat "$CLOCK" 2>/dev/null || echo 1000); echo $((now + 60)) > "$CLOCK"; echo "$now"',
}
ALERT_ON = [
    "azd env set HEALTH_ALERT_ENABLED true",
    "az monitor metrics alert update --resource-group rg-x --name alert-health-tok123 --enabled true"
    " --output none",
]
HOOK_CASES = [
    # (answers of /api/health, az's exit status, HEALTH_ALERT_ENABLED before, exit status, commands run)
    ([404, 503, 200], 0, None, 0, ALERT_ON),
    ([200], 1, None, 1, ALERT_ON),  # az could not do it and nothing else will: say so
    ([200], 1, "true", 0, ALERT_ON),  # provisions already pass HEALTH_ALERT_ENABLED=true to the rule
    ([404], 0, None, 1, []),  # still 404 after 15 minutes: the rule is left as it was
]


@pytest.mark.parametrize(("answers", "az_exit", "before", "status", "commands"), HOOK_CASES)
def test_the_postdeploy_hook_turns_the_health_alert_on_after_a_200(
    tmp_path: Path,
    httpserver: HTTPServer,
    answers: list[int],
    az_exit: int,
    before: str | None,
    status: int,
    commands: list[str],
) -> None:
    script = yaml.safe_load((ROOT / "azure.yaml").read_text())["hooks"]["postdeploy"]["posix"]["run"]
    if answers == [404]:
        httpserver.expect_request("/api/health").respond_with_data("", status=404)
    for answer in answers if answers != [404] else []:
        httpserver.expect_ordered_request("/api/health").respond_with_data("", status=answer)
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    for name, body in FAKE_COMMANDS.items():
        (bin_ / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_ / name).chmod(0o755)
    env = {
        "PATH": f"{bin_}{os.pathsep}{os.environ['PATH']}",
        "API_BASE_URL": httpserver.url_for("/api"),
        "AZURE_FUNCTION_APP_NAME": "func-tok123",
        "AZURE_RESOURCE_GROUP": "rg-x",
        "CALLS": str(tmp_path / "calls"),
        "CLOCK": str(tmp_path / "clock"),
        "AZ_EXIT": str(az_exit),
        **({"HEALTH_ALERT_ENABLED": before} if before else {}),
    }
    result = subprocess.run(  # noqa: S603
        ["/bin/sh", "-c", script], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    calls = (tmp_path / "calls").read_text().splitlines() if (tmp_path / "calls").exists() else []
    assert (result.returncode, calls) == (status, commands), result.stderr
    if answers != [404]:
        assert len(httpserver.log) == len(answers)
    if status:
        assert "azd hooks run postdeploy" in result.stderr or "azd provision" in result.stderr


# ---- Application Insights: what the app sends ------------------------------------------------------
def test_without_application_insights_telemetry_costs_nothing() -> None:
    """Tests and `make run` have no connection string: nothing of OpenTelemetry is even imported."""
    script = (
        "import sys, shared.telemetry as t\n"
        "assert t.configure_telemetry({}) is False\n"
        "t.record_message('inbound', 'text'); t.record_window_refusal(); t.record_meta_error(190)\n"
        "t.record_mirror_lag(1.0)\n"
        "print(sorted(m for m in sys.modules if m.startswith(('opentelemetry', 'azure.monitor'))))\n"
    )
    command = [sys.executable, "-c", script]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=True)  # noqa: S603
    assert result.stdout.strip() == "[]"


def test_telemetry_that_cannot_start_never_stops_the_app(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "azure.monitor.opentelemetry", None)  # as if not installed
    environ = {telemetry.CONNECTION_STRING_SETTING: "InstrumentationKey=00000000-0000-0000-0000-000000000000"}
    assert telemetry.configure_telemetry(environ) is False
    telemetry.record_message("inbound", "text")  # still a harmless no-op
    assert "telemetry is off" in caplog.text


@pytest.fixture
def metrics_reader() -> Iterator[Any]:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    levels = {name: logging.getLogger(name).level for name in telemetry.CHATTY_LOGGERS}
    reader = InMemoryMetricReader()
    environ = {telemetry.CONNECTION_STRING_SETTING: "InstrumentationKey=00000000-0000-0000-0000-000000000000"}
    assert telemetry.configure_telemetry(environ, meter_provider=MeterProvider(metric_readers=[reader]))
    yield reader
    telemetry.reset_telemetry()
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def test_the_app_reports_messages_refusals_meta_errors_and_mirror_lag(metrics_reader: Any) -> None:
    telemetry.record_message("inbound", "text")
    telemetry.record_message("inbound", "text")
    telemetry.record_message("outbound", "image")
    telemetry.record_window_refusal()
    telemetry.record_window_refusal("meta")
    telemetry.record_meta_error(190)
    telemetry.record_meta_error(None, operation="media")
    telemetry.record_mirror_lag(1.5)
    telemetry.record_mirror_lag(4.5)

    points: dict[str, dict[tuple[tuple[str, Any], ...], Any]] = {}
    for resource in metrics_reader.get_metrics_data().resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                points[metric.name] = {
                    tuple(sorted(p.attributes.items())): p for p in metric.data.data_points
                }
    assert {k: p.value for k, p in points[telemetry.MESSAGES].items()} == {
        (("direction", "inbound"), ("kind", "text")): 2,
        (("direction", "outbound"), ("kind", "image")): 1,
    }
    assert {k: p.value for k, p in points[telemetry.WINDOW_REFUSALS].items()} == {
        (("source", "meta"),): 1,
        (("source", "session"),): 1,
    }
    assert {k: p.value for k, p in points[telemetry.META_ERRORS].items()} == {
        (("code", "190"), ("operation", "send")): 1,
        (("code", "none"), ("operation", "media")): 1,
    }
    (lag,) = points[telemetry.MIRROR_LAG].values()
    assert (lag.count, lag.sum, lag.max) == (2, 6.0, 4.5)
    assert (lag.count, lag.sum, lag.max) == (2, 6.0, 4.5)


def test_a_log_lines_extra_fields_become_custom_dimensions() -> None:
    """What the KQL in docs/monitoring.md relies on: `extra={"wamid": ...}` is customDimensions.wamid."""
    from azure.monitor.opentelemetry.exporter import AzureMonitorLogExporter
    from opentelemetry.instrumentation.logging.handler import LoggingHandler  # the one the distro installs
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor

    captured = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
    provider = LoggerProvider()
    provider.add_log_record_processor(SimpleLogRecordProcessor(captured))
    log = logging.getLogger("shared.conversations.ingest")
    handler = LoggingHandler(logger_provider=provider)
    log.addHandler(handler)
    try:
        log.warning("stored inbound text message", extra={"wamid": "wamid.A", "conversationId": "1:2"})
        log.warning("WhatsApp refused message", extra={"conversationId": "1:2", "metaErrorCode": 190})
        log.warning("Graph API send attempt failed", extra={"metaErrorCode": None})
    finally:
        log.removeHandler(handler)
    exporter = AzureMonitorLogExporter(
        connection_string="InstrumentationKey=00000000-0000-0000-0000-000000000000"
    )
    dimensions = [
        exporter._log_to_envelope(record).data.base_data.properties for record in captured.get_finished_logs()
    ]
    assert dimensions[0]["wamid"] == "wamid.A"
    assert dimensions[0]["conversationId"] == "1:2"
    assert dimensions[1]["metaErrorCode"] == "190"  # a string: KQL needs toint()
    assert "metaErrorCode" not in dimensions[2]  # None is dropped, not sent as "None"


def test_host_logs_keep_every_functions_own_lines_and_not_the_per_execution_pair(
    app_functions: list[Any],
) -> None:
    """`Function` at Warning drops the host's "Executing" and "Executed" traces, two Application
    Insights records per execution (category `Function.<name>`; docs/cost.md prices them); each
    function's `Function.<name>.User` category, the app's own lines, stays at Information. A new
    function must be listed, or its info lines would go too (Microsoft, "Configure monitoring for
    Azure Functions", log categories)."""
    levels = json.loads((ROOT / "host.json").read_text())["logging"]["logLevel"]
    names = {function.get_function_name() for function in app_functions}

    assert levels["Function"] == "Warning"
    assert {n for n in names if levels.get(f"Function.{n}.User") != "Information"} == set()
    assert levels["Host.Results"] == "Information"  # a request record per execution: failures show
