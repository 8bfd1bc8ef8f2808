"""Site settings through tableauserverclient (TSC): `sites.get_by_id` reads the settings Get Site reports and
`sites.update` (Update Site) changes them, as a site administrator does on Tableau Cloud.

TSC sends back every attribute it read (name, contentUrl, adminMode, state, timeZone, ...) beside the changed ones
(`SiteRequest.update_req` in server/request_factory.py), and writes `dataAlertsEnabled` as Python spells a bool
(`False`): the emulator must take both, as Tableau does.
"""


def test_site_settings_read_and_update_through_tsc(server):
    site = server.sites.get_by_id(server.site_id)
    original = (site.revision_limit, site.commenting_enabled, site.data_alerts_enabled)
    assert site.revision_history_enabled is True
    assert isinstance(site.revision_limit, int)

    try:
        site.revision_limit = 60
        site.commenting_enabled = False
        site.data_alerts_enabled = False
        updated = server.sites.update(site)
        assert updated.revision_limit == 60

        again = server.sites.get_by_id(server.site_id)
        assert again.revision_limit == 60
        assert again.commenting_enabled is False
        assert again.data_alerts_enabled is False
        assert again.content_url == site.content_url
        assert again.run_now_enabled is True, "settings not changed keep their values"
    finally:
        site = server.sites.get_by_id(server.site_id)
        site.revision_limit, site.commenting_enabled, site.data_alerts_enabled = original
        server.sites.update(site)


def test_unlimited_revisions_through_tsc(server):
    site = server.sites.get_by_id(server.site_id)
    before = site.revision_limit
    try:
        site.revision_limit = -1
        server.sites.update(site)
        assert server.sites.get_by_id(server.site_id).revision_limit == -1
    finally:
        site = server.sites.get_by_id(server.site_id)
        site.revision_limit = before
        server.sites.update(site)
