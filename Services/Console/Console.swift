import ConcordBriefs
import ConcordProtocol
import ConcordWire
import ConcordUsers
import ConcordWords
import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import HTTPTypes
import Hummingbird
import Logging
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle

/// A request's context: Hummingbird's, and the address it came from (failed sign-ins are
/// counted by address as well as by name).
struct ConsoleContext: RequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    let remoteAddress: SocketAddress?

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }
}

/// The console's routes: sign-in and sign-out, the overview, and the style sheet. Pages are
/// made from the gateway's answers on every request; the console keeps no data of its own but
/// the latest changes, as it follows them (`ChangeTail`).
struct Console: Sendable {
    let users: Users
    let key: SymmetricKey
    let gateway: Gateway
    let logger: Logger
    let tail: ChangeTail
    /// How long a session lasts.
    var sessionLength: Int = 12 * 3600
    let guardState = NIOLockedValueBox(SignInGuard())
    /// The latest session's number as last seen, so the overview asks for its trade headline
    /// with its other questions rather than after the list of sessions.
    let latestSession = NIOLockedValueBox<Int?>(nil)
    /// The open event streams, ended at shutdown.
    let live = LiveStreams()

    static let csrfCookie = "concord_csrf"
    static let languageCookie = "concord_lang"

    func register(on router: Router<ConsoleContext>) {
        router.get("/console.css") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "max-age=3600"], body: .init(byteBuffer: ByteBuffer(string: Pages.styleSheet)))
        }
        router.get("/console.js") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/javascript; charset=utf-8", .cacheControl: "max-age=3600"], body: .init(byteBuffer: ByteBuffer(string: Pages.script)))
        }
        router.get("/events") { request, _ in self.events(request) }
        router.get("/favicon.ico") { _, _ in Response(status: .noContent) }
        // For `console health` and `console ready` (the image's HEALTHCHECK, Kubernetes' probes).
        router.get("/health") { _, _ in Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: "ok\n"))) }
        router.get("/ready") { _, _ in
            let answered = (try? await self.gateway.client.call("ping", body: ByteBuffer(string: "{}"), metadata: Metadata(deadlineMilliseconds: 2_000, auth: self.gateway.token))) != nil
            return Response(status: answered ? .ok : .serviceUnavailable, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: answered ? "ready\n" : "the gateway does not answer\n")))
        }
        router.get("/") { request, context in try await self.overview(request, context) }
        router.get("/actions/:id") { request, context in try await self.action(request, context) }
        router.post("/actions/:id/progress") { request, context in try await self.recordProgress(request, context) }
        router.get("/sign-in") { request, _ in self.signInPage(request) }
        router.post("/sign-in") { request, context in try await self.signIn(request, context) }
        router.post("/sign-out") { request, _ in try await self.signOut(request) }
        router.post("/actions/:id") { request, context in try await self.editAction(request, context) }
        self.registerSessions(on: router)
        self.registerAgreements(on: router)
        self.registerObstacles(on: router)
        self.registerParticipants(on: router)
        self.registerTrade(on: router)
        self.registerHistory(on: router)
    }

    // MARK: Pages

    /// A page for the person signed in, in their language; the sign-in form when nobody is.
    /// A `?lang=` that changed the language sets the cookie again. `status` is read once the
    /// page is made, so what the page found (or did not) can set it.
    func personal(
        _ request: Request, status: @autoclosure () -> HTTPResponse.Status = .ok, _ make: (SessionCookie, Pages) async throws -> HTML
    ) async throws -> Response {
        guard let (session, renewed) = self.signedIn(request) else { return Self.redirect("/sign-in") }
        let pages = Pages(words: session.words)
        let html = try await make(session, pages)
        var response = Self.page(html, status: status())
        if renewed { response.setCookie(self.cookie(for: session)) }
        return response
    }

    /// A write from a form, as the person signed in: refused without the form's CSRF token;
    /// `fields` makes the verb's body from the form (or says what is wrong with it), and the
    /// person is sent on to `next` of the answer. A refusal shows `again` with the reason.
    func submit(
        _ request: Request, verb: String,
        fields: ([String: String]) throws(FormProblem) -> [String: JSONValue],
        next: (JSONValue) -> String,
        again: @escaping (String, HTTPResponse.Status) async throws -> Response
    ) async throws -> Response {
        // In the language the page will be in (a `?lang=` on the form's address too).
        guard let session = self.signedIn(request)?.session else { return Self.redirect("/sign-in") }
        let words = session.words
        let form = try await Self.form(request)
        guard let csrf = form["csrf"], Self.same(csrf, session.csrf) else {
            return try await again(words(.formExpired), .forbidden)
        }
        let body: [String: JSONValue]
        do {
            body = try fields(form)
        } catch {
            return try await again(error.say(words), .unprocessableContent)
        }
        switch await self.gateway.json(verb, body, person: session) {
        case .success(let answer):
            self.logger.info("write", metadata: ["user": "\(session.user)", "verb": "\(verb)"])
            return Self.redirect(next(answer))
        case .failure(let error):
            let status: HTTPResponse.Status = error.code == .forbidden ? .forbidden : error.code == .unauthorized ? .unauthorized : .unprocessableContent
            return try await again(Pages(words: words).refusal(error), status)
        }
    }

    func overview(_ request: Request, _ context: ConsoleContext) async throws -> Response {
        guard let (session, renewed) = self.signedIn(request) else { return Self.redirect("/sign-in") }
        let gateway = self.gateway
        let person = session
        async let overdue = gateway.call("agreements.actions.overdue", #"{"limit":500}"#, as: Overview.Overdue.self, person: person)
        async let obstacles = gateway.call("agreements.obstacles.list", #"{"limit":500}"#, as: Page<Overview.Obstacle>.self, person: person)
        async let sessions = gateway.call("participants.sessions.list", #"{"limit":500}"#, as: Page<Overview.Session>.self, person: person)
        async let actions = gateway.call("agreements.actions.list", #"{"limit":500}"#, as: Page<Overview.Action>.self, person: person)
        async let recent = self.recentChanges(person: person)
        // The headline is what the latest session stated, beside what the data say: asked at
        // once for the session last seen latest, and again only when the list says another is.
        let guess = self.latestSession.withLockedValue { $0 }
        async let guessed: Result<[SessionBrief.Headline], ConcordError>? = if let guess {
            await gateway.call("trade.headline", #"{"session":\#(guess)}"#, as: [SessionBrief.Headline].self, person: person)
        } else {
            nil
        }
        let pages = Pages(words: session.words)
        let sessionList = await sessions
        var headline: Result<[SessionBrief.Headline], ConcordError> = .success([])
        if case .success(let page) = sessionList, let latest = page.items.map(\.number).max() {
            if latest == guess, let answer = await guessed {
                headline = answer
            } else {
                self.latestSession.withLockedValue { $0 = latest }
                headline = await gateway.call("trade.headline", #"{"session":\#(latest)}"#, as: [SessionBrief.Headline].self, person: person)
            }
        }
        let overdueActions = await overdue
        let officials = await self.lookUp(Set(((try? overdueActions.get())?.items ?? []).compactMap { $0.owner["official"] }), person: person).known
        var response = Self.page(pages.overview(
            session: session, overdue: overdueActions, obstacles: await obstacles, sessions: sessionList, actions: await actions, recent: await recent,
            headline: headline, officials: officials
        ))
        if renewed { response.setCookie(self.cookie(for: session)) }
        return response
    }

    /// Server-sent events from the gateway's `watch`, as the person signed in: `start` when the
    /// watch begins, `change` for each committed write, `unavailable` while a service cannot be
    /// asked; a comment every 15 s keeps the connection open. When the watch ends (the gateway
    /// restarts), so does the stream, and the browser comes back after two seconds.
    func events(_ request: Request) -> Response {
        guard let session = self.session(of: request) else { return Response(status: .unauthorized) }
        let (stream, continuation) = AsyncStream.makeStream(of: ByteBuffer.self, bufferingPolicy: .bufferingNewest(256))
        let client = self.gateway.client
        let metadata = Metadata(auth: self.gateway.token, actor: session.user, actorRole: session.role)
        let watching = Task {
            let beat = Task {
                while (try? await Task.sleep(for: .seconds(15))) != nil { continuation.yield(ByteBuffer(string: ": still here\n\n")) }
            }
            defer { beat.cancel() }
            continuation.yield(ByteBuffer(string: "retry: 2000\n\n"))
            _ = try? await client.stream("watch", body: ByteBuffer(string: "{}"), metadata: metadata) { item in
                let text = String(buffer: item)
                let type = text.contains(#""type":"change""#) ? "change" : text.contains(#""type":"start""#) ? "start" : "unavailable"
                continuation.yield(ByteBuffer(string: "event: \(type)\ndata: \(text)\n\n"))
            }
            continuation.finish()
        }
        let id = self.live.add { continuation.finish() }
        continuation.onTermination = { [live = self.live] _ in
            watching.cancel()
            live.remove(id)
        }
        return Response(
            status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-store"], body: ResponseBody(asyncSequence: stream)
        )
    }

    /// The latest changes of every service, newest first: as the console's follower of the feed
    /// keeps them, or, while it is not following, as the services answer the person.
    func recentChanges(person: SessionCookie) async -> Result<[Overview.Change], ConcordError> {
        if let latest = self.tail.latest { return .success(latest) }
        return await self.tail.latestOfEveryService(person: person)
    }

    func action(_ request: Request, _ context: ConsoleContext, problem: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        guard let (session, renewed) = self.signedIn(request) else { return Self.redirect("/sign-in") }
        let id = context.parameters.get("id") ?? ""
        let body = String(decoding: try JSONEncoder().encode(["id": id]), as: UTF8.self)
        let action = await self.gateway.call("agreements.actions.get", body, as: Overview.ActionRecord.self, person: session)
        let pages = Pages(words: session.words)
        let officials = await self.lookUp(Set([(try? action.get())?.owner["official"]].compactMap { $0 }), person: session).known
        var response = Self.page(
            pages.action(session: session, action: action, officials: officials, path: request.uri.path, problem: problem),
            status: action.isNotFound ? .notFound : status
        )
        if renewed { response.setCookie(self.cookie(for: session)) }
        return response
    }

    /// Records progress as the person signed in: the gateway applies their role and names them
    /// in the audit trail.
    func recordProgress(_ request: Request, _ context: ConsoleContext) async throws -> Response {
        let id = context.parameters.get("id") ?? ""
        return try await self.submit(request, verb: "agreements.actions.progress") { form throws(FormProblem) in
            // What is missing or wrong the service names: the form passes on what it was given.
            var body: [String: JSONValue] = ["id": .string(id), "date": .string(form["date"] ?? "")]
            if let progress = form["progress"].flatMap({ Int64($0) }) { body["progress"] = .integer(progress) }
            if let version = form["version"].flatMap({ Int64($0) }) { body["version"] = .integer(version) }
            if let note = form["note"], !note.isEmpty { body["note"] = .string(note) }
            return body
        } next: { _ in
            Pages.href("actions", id)
        } again: { problem, status in
            try await self.action(request, context, problem: problem, status: status)
        }
    }

    /// Edits an action's title, due date and note as the person signed in.
    func editAction(_ request: Request, _ context: ConsoleContext) async throws -> Response {
        let id = context.parameters.get("id") ?? ""
        return try await self.submit(request, verb: "agreements.actions.update") { form throws(FormProblem) in
            var body: [String: JSONValue] = ["id": .string(id), "version": try Self.version(form), "title": .string(form["title"] ?? "")]
            // An emptied field is cleared.
            for name in ["due", "note"] { body[name] = (form[name] ?? "").isEmpty ? .null : .string(form[name]!) }
            return body
        } next: { _ in
            Pages.href("actions", id)
        } again: { problem, status in
            try await self.action(request, context, problem: problem, status: status)
        }
    }

    func signInPage(_ request: Request, name: String = "", problem: Key? = nil, argument: String = "", status: HTTPResponse.Status = .ok) -> Response {
        // A page the browser keeps shows the form again after a failed sign-in; only the
        // status says how it failed.
        let language = Self.chosenLanguage(request) ?? Self.cookieLanguage(request) ?? Self.acceptedLanguage(request)
        let words = Words(language)
        // Double-submit: the form carries the token its cookie holds.
        let csrf = request.cookies[Self.csrfCookie]?.value ?? SessionCookie.randomToken()
        var response = Self.page(Pages(words: words).signIn(csrf: csrf, name: name, problem: problem.map { words($0, argument) }), status: status)
        response.setCookie(Cookie(name: Self.csrfCookie, value: csrf, path: "/", secure: true, httpOnly: true, sameSite: .strict))
        response.setCookie(Cookie(name: Self.languageCookie, value: language.rawValue, path: "/", secure: true, httpOnly: true, sameSite: .strict))
        return response
    }

    func signIn(_ request: Request, _ context: ConsoleContext) async throws -> Response {
        let form = try await Self.form(request)
        let name = form["name"] ?? ""
        guard let csrf = form["csrf"], let expected = request.cookies[Self.csrfCookie]?.value, Self.same(csrf, expected) else {
            return self.signInPage(request, name: name, problem: .formExpired, status: .forbidden)
        }
        let address = context.remoteAddress?.ipAddress ?? "unknown"
        let now = Int(Date().timeIntervalSince1970)
        switch self.guardState.withLockedValue({ $0.verdict(name: name, address: address, now: now) }) {
        case .locked(let until):
            self.logger.warning("sign-in refused: too many failures", metadata: ["user": "\(name)", "address": "\(address)"])
            let time = Date(timeIntervalSince1970: Double(until)).formatted(.iso8601.time(includingFractionalSeconds: false))
            return self.signInPage(request, name: name, problem: .signInLocked, argument: time + " UTC", status: .tooManyRequests)
        case .check(let delay):
            if delay > 0 { try await Task.sleep(for: .milliseconds(Int(delay * 1000))) }
        }
        let user = try self.users.current()[name]
        // A name nobody has costs a check all the same, so the answer's time does not tell.
        let matches = UsersFile.verify(form["password"] ?? "", of: user ?? UsersFile.decoy)
        guard let user, matches else {
            self.guardState.withLockedValue { $0.failed(name: name, address: address, now: now) }
            self.logger.notice("sign-in failed", metadata: ["user": "\(name)", "address": "\(address)"])
            return self.signInPage(request, name: name, problem: .signInFailed, status: .unauthorized)
        }
        self.guardState.withLockedValue { $0.succeeded(name: name) }
        let language = Self.cookieLanguage(request) ?? Self.acceptedLanguage(request)
        let session = SessionCookie(user: user.name, role: user.role, language: language.rawValue, expires: now + self.sessionLength, csrf: SessionCookie.randomToken(),
            stamp: SessionCookie.stamp(ofHash: user.hash))
        self.logger.info("signed in", metadata: ["user": "\(user.name)", "role": "\(user.role)", "address": "\(address)"])
        var response = Self.redirect("/")
        response.setCookie(self.cookie(for: session))
        return response
    }

    func signOut(_ request: Request) async throws -> Response {
        let form = try await Self.form(request)
        guard let session = self.session(of: request) else { return Self.redirect("/sign-in") }
        guard let csrf = form["csrf"], Self.same(csrf, session.csrf) else {
            let words = session.words
            return Self.page(Pages(words: words).signIn(csrf: "", problem: words(.formExpired)), status: .forbidden)
        }
        var response = Self.redirect("/sign-in")
        response.setCookie(Cookie(name: SessionCookie.name, value: "", maxAge: 0, path: "/", secure: true, httpOnly: true, sameSite: .strict))
        return response
    }

    // MARK: Sessions

    /// The session of a page's request, in the language its `?lang=` chooses; `renewed` when
    /// that changed it, so the page sets the cookie again.
    func signedIn(_ request: Request) -> (session: SessionCookie, renewed: Bool)? {
        guard var session = self.session(of: request) else { return nil }
        guard let chosen = Self.chosenLanguage(request), chosen.rawValue != session.language else { return (session, false) }
        session.language = chosen.rawValue
        return (session, true)
    }

    /// The signed-in session of `request`: signed with the console's key, not expired, and its
    /// person still in the users file with the same role and password.
    func session(of request: Request) -> SessionCookie? {
        guard let value = request.cookies[SessionCookie.name]?.value,
              let session = SessionCookie.open(value, with: self.key, now: Int(Date().timeIntervalSince1970)),
              let user = try? self.users.current()[session.user], user.role == session.role,
              Self.same(session.stamp, SessionCookie.stamp(ofHash: user.hash))
        else { return nil }
        return session
    }

    func cookie(for session: SessionCookie) -> Cookie {
        Cookie(
            name: SessionCookie.name, value: session.sealed(with: self.key),
            expires: Date(timeIntervalSince1970: Double(session.expires)), path: "/", secure: true, httpOnly: true, sameSite: .strict
        )
    }

    // MARK: Helpers

    static func chosenLanguage(_ request: Request) -> Language? {
        request.uri.queryParameters.get("lang").flatMap { Language(rawValue: String($0)) }
    }

    static func cookieLanguage(_ request: Request) -> Language? {
        request.cookies[Self.languageCookie].flatMap { Language(rawValue: $0.value) }
    }

    /// The first of fa, ru and en the browser asks for; English when none.
    static func acceptedLanguage(_ request: Request) -> Language {
        let accepted = request.headers[.acceptLanguage] ?? ""
        for part in accepted.split(separator: ",") {
            let tag = part.split(separator: ";")[0].filter { $0 != " " }.lowercased()
            if let language = Language(rawValue: String(tag.prefix(2))) { return language }
        }
        return .en
    }

    static func page(_ html: HTML, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"], body: .init(byteBuffer: ByteBuffer(string: html.markup)))
    }

    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }

    /// Compares two tokens in time that does not depend on where they differ.
    static func same(_ a: String, _ b: String) -> Bool {
        let (x, y) = (Array(a.utf8), Array(b.utf8))
        guard x.count == y.count, !x.isEmpty else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// An `application/x-www-form-urlencoded` body, at most 16 KiB, by field.
    static func form(_ request: Request) async throws -> [String: String] {
        let body = try await request.body.collect(upTo: 16 * 1024)
        var fields: [String: String] = [:]
        for pair in String(buffer: body).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.percentDecoded(parts[0]) else { continue }
            fields[name] = parts.count > 1 ? Self.percentDecoded(parts[1]) : ""
        }
        return fields
    }

    static func percentDecoded(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "+"): bytes.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard let high = iterator.next(), let low = iterator.next(),
                      let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
                else { return nil }
                bytes.append(value)
            default: bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }
}

/// Headers every answer carries: nothing runs but the console's own, nothing frames it, and the
/// browser neither guesses types nor sends where it came from.
struct SecurityHeaders<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.contentSecurityPolicy] = "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        response.headers[.strictTransportSecurity] = "max-age=31536000"
        return response
    }
}

/// The event streams open now: at graceful shutdown each ends, so the connections close and
/// the console stops at once rather than wait for browsers that never hang up.
final class LiveStreams: Service, Sendable {
    private let streams = NIOLockedValueBox<(next: Int, finish: [Int: @Sendable () -> Void], closed: Bool)>((0, [:], false))

    /// Keeps `finish` until `remove`; calls it at once when shutdown has begun.
    func add(_ finish: @escaping @Sendable () -> Void) -> Int {
        let (id, closed) = self.streams.withLockedValue { state -> (Int, Bool) in
            state.next += 1
            if !state.closed { state.finish[state.next] = finish }
            return (state.next, state.closed)
        }
        if closed { finish() }
        return id
    }

    func remove(_ id: Int) {
        _ = self.streams.withLockedValue { $0.finish.removeValue(forKey: id) }
    }

    func run() async throws {
        try? await gracefulShutdown()
        let open = self.streams.withLockedValue { state in
            state.closed = true
            defer { state.finish = [:] }
            return Array(state.finish.values)
        }
        for finish in open { finish() }
    }
}

extension Result where Failure == ConcordError {
    /// Whether the gateway answered that nothing is recorded under what was asked: a page of
    /// that subject is then a 404.
    var isNotFound: Bool {
        if case .failure(let error) = self { error.code == .notFound } else { false }
    }
}
