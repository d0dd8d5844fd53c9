#!/usr/bin/env python3
"""The browser half of scripts/check-console: Debian's Chromium, driven by Playwright.

    check_console.py shots BASE_URL OPERATOR_PASSWORD SHOTS_DIR
    check_console.py checks BASE_URL OPERATOR_PASSWORD READER_PASSWORD WORK_DIR

`checks` signs in as operator (admin), as clerk1 (secretariat) and as reader1 (reader), whose
passwords are READER_PASSWORD (check-console adds both).

`shots` writes SHOTS_DIR/console-{overview,instrument,trade}-{fa,ru}.png (run it before the
checks add their records). `checks`:
Fails (exit 1, naming each problem) unless:
  - an unsigned visitor is sent to the sign-in page, in the language the browser asks for;
  - a wrong password is refused with a message, and the right one opens the overview;
  - the session cookie is HttpOnly, Secure and SameSite=Strict;
  - a POST without its CSRF token is refused (sign-in and sign-out);
  - a secretariat user records an action's progress, and the timeline names them; a reader's
    overview, open in a second browser context, shows it within 5 s without reloading
    (server-sent events from the gateway's watch), naming the person;
  - a reader sees no write controls, only sign-out, and a write forged with the reader's cookie
    and CSRF token is refused by the gateway;
  - a record titled `<img src=x onerror=alert(1)>` shows as that text, and no dialog opens;
  - an instrument's status form offers only the moves the status graph allows (and, to an admin,
    the others marked forced); a move is kept in its history naming the person;
  - a small Comtrade CSV uploaded through the trade page shows a progress bar and is imported;
    a bad one is refused with its line, and nothing of it is imported;
  - a record's history names the person and the fields that changed;
  - the language switch turns the page into Russian (lang, dir), and signing out ends the session;
  - no page logs an error to the browser's console, but the refused sign-in's own 401.
"""
import pathlib
import sys

from playwright.sync_api import sync_playwright

mode, base, operator_password = sys.argv[1], sys.argv[2], sys.argv[3]
problems = []


def check(condition, message):
    if not condition:
        problems.append(message)


def sign_in(page, name, password):
    page.goto(base + "/")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", password)
    page.click("form.signin button[type=submit]")


def take_shots(browser, shots):
    shots.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(ignore_https_errors=True, locale="fa-IR", viewport={"width": 1100, "height": 760})
    page = context.new_page()
    sign_in(page, "operator", operator_password)
    check(page.url == base + "/", f"signing in as operator led to {page.url}")
    for language in ("fa", "ru"):
        for name, path in (("overview", "/"), ("instrument", "/agreements/permanent-secretariat"), ("trade", "/trade")):
            page.goto(f"{base}{path}?lang={language}")
            check(page.get_attribute("html", "lang") == language, f"{path} is not in {language}")
            page.screenshot(path=str(shots / f"console-{name}-{language}.png"), full_page=True)
    context.close()


def checks(browser, reader_password):
    # The deployment's CA is private: the browser is told not to check it, as a person would
    # import ca.pem once.
    secretariat = browser.new_context(ignore_https_errors=True, locale="fa-IR", viewport={"width": 1100, "height": 900})
    page = secretariat.new_page()
    errors, dialogs = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    page.goto(base + "/")
    check(page.url.endswith("/sign-in"), f"an unsigned visitor is at {page.url}, not the sign-in page")
    check(page.get_attribute("html", "lang") == "fa" and page.get_attribute("html", "dir") == "rtl", "the sign-in page is not in Persian for a Persian browser")

    sign_in(page, "operator", "not the password")
    check(page.locator(".problem").count() == 1, "a wrong password was not refused with a message")
    check(page.url.endswith("/sign-in"), "a wrong password left the sign-in page")
    errors = [e for e in errors if "401" not in e]

    # A sign-in POST without the form's CSRF token.
    response = page.request.post(base + "/sign-in", form={"name": "operator", "password": operator_password})
    check(response.status == 403, f"a sign-in without its CSRF token answered {response.status}, not 403")

    sign_in(page, "operator", operator_password)
    check(page.url == base + "/", f"signing in as operator led to {page.url}")
    check(page.locator("h1").inner_text() == "نمای کلی", "the overview's heading is not Persian")
    cookie = next((c for c in secretariat.cookies() if c["name"] == "concord_session"), None)
    check(cookie is not None, "no session cookie")
    if cookie:
        check(cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict", f"the session cookie is {cookie}")
    check(page.get_by_text("<img src=x onerror=alert(1)>").count() == 1, "a title written as markup is not shown as its text")
    check(page.locator("main img").count() == 0, "a title written as markup became an element")

    # A sign-out POST without its token is refused, and the session stays.
    response = page.request.post(base + "/sign-out", form={})
    check(response.status == 403, f"a sign-out without its CSRF token answered {response.status}, not 403")

    reader = browser.new_context(ignore_https_errors=True, locale="ru-RU")
    reading = reader.new_page()
    reading.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    reading.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    sign_in(reading, "reader1", reader_password)
    check(reading.url == base + "/", f"signing in as a reader led to {reading.url}")
    # The reader's overview is open, and stays open: it must show the progress without a reload.
    reading.evaluate("window.__notReloaded = true")

    # Progress recorded by a secretariat user: the gateway names them in the audit trail.
    secretariat_context = browser.new_context(ignore_https_errors=True, locale="en-GB")
    clerk = secretariat_context.new_page()
    clerk.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(clerk, "clerk1", reader_password)
    check(clerk.url == base + "/", f"signing in as a secretariat user led to {clerk.url}")
    clerk.click("ul.actions a >> nth=0")
    action_url = clerk.url
    clerk.fill("input[name=progress]", "35")
    clerk.fill("textarea[name=note]", "Recorded by check-console")
    clerk.click("form.progress button")
    check(clerk.url == action_url, f"recording progress led to {clerk.url}")
    check(clerk.locator("ol.timeline").get_by_text("Recorded by check-console").count() == 1, "the progress recorded is not in the timeline")
    check(clerk.locator("ol.timeline li").first.get_by_text("clerk1").count() == 1, "the timeline does not name who recorded the progress")

    # The history of the action: the person, and the field that changed.
    clerk.click("a[href^='/history/agreements/actions/']")
    latest = clerk.locator("ol.history > li").first
    check(latest.get_by_text("clerk1").count() >= 1, "the action's history does not name the person")
    check(latest.get_by_text("secretariat").count() >= 1, "the action's history does not give the person's role")
    check(latest.locator("table.diff th[scope=row]", has_text="progress").count() == 1, "the action's history does not show the progress recorded")
    # A secretariat user is offered the graph's moves, never the forced ones.
    clerk.goto(base + "/agreements/permanent-secretariat")
    check(clerk.locator("input[name=force]").count() == 0, "a secretariat user is offered to force a move")
    secretariat_context.close()

    # An instrument: the status form offers the graph's moves, and the admin's forced ones marked.
    page.goto(base + "/agreements")
    page.click("a[href='/agreements/permanent-secretariat']")
    options = page.locator("select[name=to] option").evaluate_all("os => os.map(o => o.value)")
    check(options[:4] == ["under-negotiation", "signed", "rejected", "withdrawn"], f"the moves offered from proposed are {options[:4]}")
    check("recorded" in options[4:] and page.locator("input[name=force]").count() == 1, "an admin is not offered the moves outside the graph")
    page.select_option("select[name=to]", "under-negotiation")
    page.fill("form[action$='/transition'] textarea[name=note]", "Moved by check-console")
    page.click("form[action$='/transition'] button")
    check(page.locator("ol.timeline li").first.get_by_text("Moved by check-console").count() == 1, "the move is not in the status history")
    check(page.locator("ol.timeline li").first.get_by_text("operator").count() == 1, "the status history does not name who moved it")

    # Import through the page: a progress bar, then what was imported; a bad file: its line, and nothing imported.
    good = pathlib.Path(sys.argv[5]) / "good.csv"
    bad = pathlib.Path(sys.argv[5]) / "bad.csv"
    header = "freqCode,refYear,refMonth,period,reporterISO,partnerISO,partner2Code,flowCode,classificationCode,cmdCode,customsCode,motCode,primaryValue\n"
    good.write_text(header + "M,2026,1,202601,RUS,IRN,0,X,H6,TOTAL,C00,0,1000.5\nM,2026,1,202601,RUS,IRN,0,M,H6,TOTAL,C00,0,2000\n")
    bad.write_text(header + "M,2026,2,202602,RUS,IRN,0,X,H6,TOTAL,C00,0,1000.5\nM,2026,2,202602,RUS,IRN,0,M,H6,TOTAL,C00,0,a lot\n")
    page.goto(base + "/trade")
    page.set_input_files("input[name=file]", str(good))
    # A small file uploads in a moment and its answer replaces the form: whether the bar was
    # shown is recorded as it happens, not looked for after.
    page.evaluate("""() => {
      window.__barShown = false;
      const bar = document.querySelector("#import .upload");
      new MutationObserver(() => { if (!bar.hidden) window.__barShown = true; }).observe(bar, { attributes: true });
    }""")
    page.click("#import button")
    page.wait_for_selector(".import-result")
    check(page.evaluate("window.__barShown === true"), "the upload's progress bar was not shown")
    result = page.locator(".import-result")
    check(result.locator("progress").get_attribute("value") == "2", f"the import's result reads: {result.inner_text()}")
    page.goto(base + "/trade")
    page.set_input_files("input[name=file]", str(bad))
    page.click("#import button")
    page.wait_for_selector(".import-result")
    rows = page.locator("table.bad-rows tbody tr").evaluate_all("rs => rs.map(r => r.cells[0].innerText + ' ' + r.cells[1].innerText)")
    rows = [row.translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789")) for row in rows]
    check(rows == ["3 primaryValue"], f"the bad file's rows listed are {rows}, not line 3's primaryValue")
    # The page is Persian: the row's reason is said from its rule, not in the English it stands for.
    reason = page.locator("table.bad-rows tbody tr td").nth(2).inner_text()
    check("primaryValue" in reason and "عدد" in reason and "is not a number" not in reason, f"the bad row's reason reads: {reason}")
    check(page.locator(".import-result progress").count() == 0, "something of a bad file was imported")
    page.goto(base + "/trade?reporter=RU&partner=IR&flow=X&from=2026-02&to=2026-02")
    check(page.locator("#live-growth p.computed:not([data-current-months='0'])").count() == 0, "a row of the bad file is in the data")
    errors = [e for e in errors if "422" not in e]

    page.goto(action_url)
    page.click("a[hreflang=ru]")
    check(page.get_attribute("html", "lang") == "ru" and page.locator("h2", has_text="Хронология").count() == 1, "the language switch did not turn the action's page Russian")
    page.goto(base + "/")
    check(page.get_attribute("html", "lang") == "ru" and page.get_attribute("html", "dir") == "ltr", "the language switch did not turn the page Russian")
    check(page.locator("h1").inner_text() == "Обзор", "the overview's heading is not Russian")
    # Progress sent from a form opened before someone else's change (its version is behind):
    # refused in the reader's language, the record shown as it is now, nothing written.
    page.goto(action_url)
    page.evaluate("document.querySelector('form.progress input[name=version]').value = '1'")
    page.fill("form.progress input[name=progress]", "77")
    page.click("form.progress button")
    check(page.locator(".problem", has_text="Кто-то изменил эту запись после того, как вы её открыли").count() == 1,
          "progress from a form opened before another change does not say that the record changed meanwhile")
    check(page.locator("ol.timeline").get_by_text("77%").count() == 0, "progress from a stale form was recorded")
    # A due date the form lets through and the service refuses (no 30 February): the rule it
    # broke is said in the reader's language, the field named by its label.
    page.fill("form.write input[name=due]", "2026-02-30")
    page.click("form.write button")
    refused = page.locator(".problem", has_text="«Срок»")
    check(refused.count() == 1 and "вне допустимого диапазона" in refused.inner_text(),
          "a refused due date is not said in Russian with the field's label: " + " | ".join(page.locator(".problem").all_inner_texts()))
    errors = [e for e in errors if "422" not in e]

    forms = reading.locator("form").evaluate_all("forms => forms.map(f => f.getAttribute('action'))")
    check(forms == ["/sign-out"], f"a reader sees write controls: forms {forms}")
    try:
        reading.locator("table.changes tr", has_text="agreements.actions.progress").first.wait_for(timeout=5000)
    except Exception:
        problems.append("the reader's open overview did not show the progress recorded within 5 s")
    check(reading.evaluate("window.__notReloaded === true"), "the reader's overview was reloaded, not updated in place")
    check(reading.locator("table.changes tr", has_text="agreements.actions.progress").first.get_by_text("clerk1").count() == 1,
          "the overview's changes do not name the person who recorded the progress")
    reading.goto(action_url)
    forms = reading.locator("form").evaluate_all("forms => forms.map(f => f.getAttribute('action'))")
    check(forms == ["/sign-out"], f"a reader sees write controls on an action: forms {forms}")
    for path in ("/agreements/permanent-secretariat", "/obstacles", "/trade"):
        reading.goto(base + path)
        forms = reading.locator("form[method=post]").evaluate_all("forms => forms.map(f => f.getAttribute('action'))")
        check(forms == ["/sign-out"], f"a reader sees write controls on {path}: forms {forms}")
    # An address that names nothing recorded is a 404 that says so, not a service "that cannot
    # be asked"; a list asked for a status no record can have says what was refused.
    # (The reader reads Russian.)
    for path in ("/sessions/99", "/agreements/no-such-instrument", "/actions/no-such-action"):
        response = reading.goto(base + path)
        check(response.status == 404, f"{path} answered {response.status}, not 404")
        check(reading.get_by_text("По этому адресу ничего не записано.").count() == 1, f"{path} does not say nothing is recorded there")
    errors = [e for e in errors if "404" not in e]
    reading.goto(base + "/agreements?status=flying")
    # Said in Russian from the refusal's rule, the filter named by its label.
    check(reading.locator(".problem", has_text="Шлюз отказал").filter(has_text="«Статус» должно быть одним из").count() == 1,
          "a list filtered by a status that is none does not say what was refused, in Russian")
    # A trade question whose span ends before it starts is stopped on the page, once, in Russian,
    # each end named by its label on the form.
    reading.goto(base + "/trade?reporter=RU&partner=IR&flow=total&from=2025-09&to=2025-01")
    check(reading.locator(".problem", has_text="«По» не может быть раньше «С»").count() == 1,
          "a span that ends before it starts is not said once in Russian: " + " | ".join(reading.locator(".problem").all_inner_texts()))
    # A write forged with the reader's own cookie and CSRF token: the gateway refuses it.
    token = reading.locator("form.signout input[name=csrf]").get_attribute("value")
    response = reading.request.post(action_url + "/progress", form={"csrf": token, "progress": "99", "date": "2026-12-01", "version": "1"})
    check(response.status == 403, f"a reader's forged write answered {response.status}, not 403")
    reading.goto(action_url)
    check(reading.get_by_text("99%").count() == 0, "a reader's forged write was recorded")

    page.click("form.signout button")
    check(page.url.endswith("/sign-in"), "signing out did not lead to the sign-in page")
    page.goto(base + "/")
    check(page.url.endswith("/sign-in"), "after signing out, the overview still opens")

    check(not dialogs, f"a dialog opened: {dialogs}")
    check(not errors, f"the browser's console logged errors: {errors}")


with sync_playwright() as playwright:
    browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
    if mode == "shots":
        take_shots(browser, pathlib.Path(sys.argv[4]))
    else:
        checks(browser, sys.argv[4])
    browser.close()

for problem in problems:
    print("check_console:", problem, file=sys.stderr)
sys.exit(1 if problems else 0)
