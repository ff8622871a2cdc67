#!/usr/bin/python3
"""A browser for WebKitWebDriver that answers WebKit's Storage Access question.

e2e/webkitshell_test.go says why. WebKitWebDriver starts it as it starts
MiniBrowser (webkitgtk:browserOptions), with --automation, and drives it over
WebKit's automation protocol. Arguments:

  --automation               required: the session WebKitWebDriver opens
  --enable-itp               tracking prevention on, as MiniBrowser's flag
  --deny-storage-access      answer the Storage Access question with
                             "Don't Allow" (the default answer is Allow)

Each answer is printed as one "webkitshell: ..." line on stdout.
"""
import ctypes
import signal
import sys

import gi

gi.require_version("Gtk", "3.0")
gi.require_version("WebKit2", "4.1")
from gi.repository import Gtk, WebKit2  # noqa: E402


def say(*words):
    print("webkitshell:", *words, flush=True)


args = sys.argv[1:]
if "--automation" not in args:
    sys.exit("webkitshell: only runs under WebKitWebDriver (--automation)")
# Go when WebKitWebDriver goes, whatever state the session is in: an orphan
# would hold the test's output pipe open (prctl PR_SET_PDEATHSIG).
ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)

# As MiniBrowser under automation: an ephemeral profile, its default cookie
# policy (no third-party cookies), and --enable-itp's tracking prevention.
# Certificates: WebKitWebDriver's acceptInsecureCerts reaches WebKit through
# the automation session, as it does for MiniBrowser.
manager = WebKit2.WebsiteDataManager.new_ephemeral()
manager.set_itp_enabled("--enable-itp" in args)
context = WebKit2.WebContext(website_data_manager=manager)
context.get_cookie_manager().set_accept_policy(WebKit2.CookieAcceptPolicy.NO_THIRD_PARTY)
context.set_automation_allowed(True)
views = []  # the open tabs, each a window

allow_storage_access = "--deny-storage-access" not in args


def on_permission(view, request):
    if isinstance(request, WebKit2.WebsiteDataAccessPermissionRequest):
        # The question MiniBrowser would show the user; this is the click.
        answer = "allowed" if allow_storage_access else "denied"
        say(answer, "storage access for", request.get_requesting_domain(), "under", request.get_current_domain())
        if allow_storage_access:
            request.allow()
        else:
            request.deny()
        return True
    say("denied", type(request).__name__)
    request.deny()
    return True


def on_close(view):
    view.get_toplevel().destroy()
    views.remove(view)
    if not views:
        Gtk.main_quit()


def show(view):
    view.connect("permission-request", on_permission)
    view.connect("create", on_create)
    view.connect("close", on_close)
    window = Gtk.Window()
    window.set_default_size(1024, 768)
    window.add(view)
    window.show_all()
    views.append(view)
    return view


def on_create(view, action):
    # A page opens a tab (the cookie-check page's target=_blank link).
    new = WebKit2.WebView(related_view=view)  # controlled by automation as view is
    new.connect("ready-to-show", lambda v: show(v))
    return new


def on_automation(ctx, session):
    # WebKitWebDriver's session: it checks the name against browserName and
    # asks for each new tab through create-web-view.
    info = WebKit2.ApplicationInfo.new()
    info.set_name("embedsso-webkitshell")
    info.set_version(WebKit2.get_major_version(), WebKit2.get_minor_version(), WebKit2.get_micro_version())
    session.set_application_info(info)
    session.connect("create-web-view", lambda s: show(WebKit2.WebView(web_context=context, is_controlled_by_automation=True)))
    say("automation started")


context.connect("automation-started", on_automation)
say("ready, tracking prevention", manager.get_itp_enabled())
Gtk.main()
