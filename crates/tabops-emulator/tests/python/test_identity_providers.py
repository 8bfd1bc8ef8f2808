"""Sites with several identity providers, read and written by tableauserverclient (issue 20).

TSC >= 0.38 lists a site's authentication configurations (`sites.list_auth_configurations`, API 3.24) and sends
`idpConfigurationId` when adding or updating a user (TSC PR #1601); these checks prove the emulator's shapes are
the ones TSC parses, and that it refuses what Tableau refuses.
"""
import uuid

import pytest
import tableauserverclient as TSC


def _configurations(server):
    return {c.idp_configuration_name: c for c in server.sites.list_auth_configurations()}


def test_auth_configurations_are_listed_as_tsc_reads_them(server):
    configurations = _configurations(server)
    saml = configurations["Initial SAML"]
    assert saml.auth_setting == "SAML" and saml.enabled and saml.known_provider_alias is None
    salesforce = configurations["Initial Salesforce"]
    assert salesforce.auth_setting == "OIDC" and salesforce.known_provider_alias == "Salesforce"
    assert saml.idp_configuration_id != salesforce.idp_configuration_id


def test_a_user_added_with_an_identity_provider_lists_it_back(server):
    configurations = _configurations(server)
    user = TSC.UserItem(f"idp-{uuid.uuid4().hex[:8]}@acme.com", "Viewer")
    user.idp_configuration_id = configurations["Initial Salesforce"].idp_configuration_id
    added = server.users.add(user)
    assert added.idp_configuration_id == configurations["Initial Salesforce"].idp_configuration_id
    # A user signing in through an OIDC configuration lists authSetting OpenID.
    assert added.auth_setting == "OpenID"
    again = server.users.get_by_id(added.id)
    assert again.idp_configuration_id == added.idp_configuration_id

    # TSC's update request sends every populated field; the server refuses authSetting beside an
    # idpConfigurationId, so the read-back authSetting is cleared first (TSC leaves that check to the server).
    again._auth_setting = None
    again.idp_configuration_id = configurations["Initial SAML"].idp_configuration_id
    server.users.update(again)
    listed = {u.id: u for u in TSC.Pager(server.users)}[added.id]
    assert listed.idp_configuration_id == configurations["Initial SAML"].idp_configuration_id
    assert listed.auth_setting == "SAML"


def test_auth_setting_and_identity_provider_together_are_refused(server):
    user = TSC.UserItem(f"both-{uuid.uuid4().hex[:8]}@acme.com", "Viewer", auth_setting="SAML")
    user.idp_configuration_id = _configurations(server)["Initial SAML"].idp_configuration_id
    with pytest.raises(TSC.ServerResponseError) as refused:
        server.users.add(user)
    assert refused.value.code == "400000"


def test_an_unknown_identity_provider_is_refused(server):
    user = TSC.UserItem(f"nobody-{uuid.uuid4().hex[:8]}@acme.com", "Viewer")
    user.idp_configuration_id = str(uuid.uuid4())
    with pytest.raises(TSC.ServerResponseError) as refused:
        server.users.add(user)
    assert refused.value.code == "400000"
