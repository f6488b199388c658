import Archive
import DICOM
import Foundation
import HealthRecords
import Hummingbird
import HummingbirdWebSocket
import Imaging
import Laboratory
import Logging
import NIOCore
import Platform
import Programme
import Reading
import ServiceLifecycle
import Teaching
import Training

/// The Atrium server: the archive, DICOMweb, the DIMSE listener and (as it arrives) the web application, in one process.
public struct AtriumServer: Sendable {
    public let configuration: ServerConfiguration
    public let archive: Archive
    /// The web application's templates, locale strings and static assets.
    public let webViews: WebViews
    /// The Prometheus registry behind `GET /metrics` (``ServerMetrics``).
    public let metrics: ServerMetrics
    /// Institutions, people, sessions, API tokens and the audit trail, in the archive's database.
    public let identity: IdentityStore
    /// The teaching-case library, in the same database.
    public let teaching: TeachingStore
    /// Questions, exams, attempts and grades, in the same database (``TrainingStore``).
    public let training: TrainingStore
    /// Consultation requests, work items, reports and critical results, in the same database (``ReadingStore``).
    public let reading: ReadingStore
    /// The programme office's targets, named indicators, figures and improvement actions (``ProgrammeStore``).
    public let programme: ProgrammeStore
    /// Laboratory result sets, reference intervals, QC and facility mappings (``LaboratoryStore``).
    public let laboratory: LaboratoryStore
    /// The community health records (``HealthStore``).
    public let health: HealthStore
    /// The files of continuing-education courses (PDF courseware, videos, posters), in a blob store beside the archive's.
    public let courseware: CoursewareFiles
    /// The one-time token that creates the first administrator (issued by ``run(onServerRunning:onDICOMListening:onDICOMTLSListening:)``
    /// while none exists, or by ``issueSetupTokenIfNeeded()``).
    public let setupToken: SetupToken
    /// What this start's `--demo` made (for the start banner and the sign-in page).
    public let firstRun = FirstRunState()
    /// Sign-in attempts and bad bearer tokens per client address (``RateLimiter``), shared by both routers.
    let signInLimiter: RateLimiter
    let tokenLimiter: RateLimiter
    let logger: Logger

    /// Opens the archive in the configured data directory, creating it when needed. `metrics` is where counters go: a
    /// registry of this server's own by default, ``ServerMetrics/processWide`` in `atrium serve`. `environment` holds the
    /// AWS variables an S3 blob store reads (credentials, region, endpoint).
    public init(
        configuration: ServerConfiguration, logger: Logger = Logger(label: "atrium"), metrics: ServerMetrics = ServerMetrics(),
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws {
        try configuration.validate()
        try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
        var archive = try Archive.open(
            directory: configuration.dataDirectory, database: configuration.database, storage: configuration.storage,
            storageSettings: S3Settings(
                endpoint: configuration.storageEndpoint, region: configuration.storageRegion, pathStyle: configuration.storagePathStyle),
            environment: environment, durability: IndexDurability(rawValue: configuration.indexDurability) ?? .everyCommit)
        archive.duplicatePolicy = DuplicatePolicy(rawValue: configuration.duplicatePolicy) ?? .ignore
        archive.metrics = metrics.archive
        archive.inflationLimits = configuration.intakeLimits.inflation
        self.metrics = metrics
        self.configuration = configuration
        self.archive = archive
        self.webViews = try WebViews(resources: WebViews.bundledResources)
        self.identity = try IdentityStore.make(
            archive: archive, directory: configuration.dataDirectory,
            syslog: try configuration.auditSyslog.map { try AuditSyslog.sink(url: $0, logger: logger) },
            logger: logger)
        self.setupToken = SetupToken(cluster: identity.cluster)
        self.teaching = TeachingStore(identity: identity)
        self.training = TrainingStore(identity: identity)
        self.reading = ReadingStore.make(identity: identity, settings: configuration.reading)
        self.laboratory = LaboratoryStore(identity: identity)
        self.health = HealthStore(identity: identity)
        self.programme = ProgrammeStore(identity: identity, reading: reading, teaching: teaching, training: training, health: health)
        self.courseware = CoursewareFiles(
            blobs: try Self.coursewareBlobs(archive: archive, directory: configuration.dataDirectory),
            maximumBytes: min(CoursewareFiles.defaultMaximumBytes, configuration.maximumUploadBytes))
        // Shared by every process on the same PostgreSQL (a table), else this process's own.
        self.signInLimiter = RateLimiter(
            limit: configuration.signInAttemptsPerMinute, shared: identity.cluster.map { (cluster: $0, name: "sign-in") }, logger: logger)
        self.tokenLimiter = RateLimiter(
            limit: configuration.failedTokensPerMinute, shared: identity.cluster.map { (cluster: $0, name: "token") }, logger: logger)
        self.logger = logger
    }

    /// The HTTP application. `onServerRunning` receives the bound port (useful with port 0).
    public func makeApplication(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let router = Router(context: AtriumRequestContext.self)
        // Security headers on every response, errors and unknown paths included (docs/security.md).
        let headers = SecurityHeadersMiddleware(
            hstsSeconds: configuration.hstsSeconds, publicURL: configuration.publicURL)
        router.add(middleware: headers)
        // The database or the bucket out of reach: 503 with the reason, whichever route met it.
        router.add(middleware: ServiceUnavailableMiddleware(logger: logger))
        router.get("/health") { _, _ in "ok\n" }
        let metrics = metrics
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
        }
        router.add(middleware: DICOMwebMetricsMiddleware(factory: metrics.factory, prefix: "/dicom-web"))
        // An oversized upload is refused from its Content-Length, unread (docs/reliability.md, Hostile input).
        router.add(middleware: BodySizeMiddleware(maximumUploadBytes: configuration.maximumUploadBytes))
        // Who is asking, and whether they may: before every route but /health (``AccessPolicy``).
        router.add(
            middleware: AuthenticationMiddleware(
                identity: identity, logger: logger, signInLimiter: signInLimiter, tokenLimiter: tokenLimiter))
        // Compressed request bodies are inflated under the intake caps, for those signed in (docs/reliability.md).
        router.add(
            middleware: ContentEncodingMiddleware(limits: configuration.intakeLimits, maximumBodyBytes: configuration.maximumUploadBytes))
        let auth = AuthRoutes(identity: identity, archive: archive, configuration: configuration, setup: setupToken, logger: logger)
        auth.register(on: router)
        let address = PublicAddress(configured: configuration.publicURL)
        let slides = SlideRoutes(
            archive: archive, dataDirectory: configuration.dataDirectory, maximumUploadBytes: configuration.maximumUploadBytes)
        var dicomweb = DICOMwebRoutes(
            archive: archive, maximumUploadBytes: configuration.maximumUploadBytes, address: address,
            frameCache: DecodedFrameCache(capacityBytes: configuration.frameCacheBytes))
        dicomweb.storedSlideFrames = { item, frames in try await slides.storedFrames(item, frames: frames) }
        dicomweb.spoolDirectory = configuration.dataDirectory + "/spool"
        dicomweb.register(on: router)
        ViewerRoutes(locales: webViews.locales, archive: archive).register(on: router)
        slides.register(on: router)
        SlideViewerRoutes(locales: webViews.locales).register(on: router)
        ReadingRoutes(store: reading, identity: identity, archive: archive, logger: logger).register(on: router)
        LaboratoryRoutes(
            store: laboratory, reading: reading, identity: identity, logger: logger, critical: laboratoryCriticalPath,
            teaching: teaching
        ).register(on: router)
        // UPS-RS over the work items, and its event channels on a router of their own (the WebSocket upgrade requests
        // pass the same authentication as every other request).
        let ups = UPSRoutes(
            store: reading, archive: archive, address: address,
            events: UPSEventChannel(store: reading, logger: logger, cluster: identity.cluster), logger: logger)
        ups.register(on: router)
        let webSocketRouter = Router(context: AtriumRequestContext.self)
        webSocketRouter.add(
            middleware: AuthenticationMiddleware(
                identity: identity, logger: logger, signInLimiter: signInLimiter, tokenLimiter: tokenLimiter))
        ups.registerWebSocket(on: webSocketRouter)
        router.add(middleware: LanguageMiddleware())
        LibraryRoutes(store: teaching, archive: archive, views: webViews, audit: identity.audit, logger: logger).register(on: router)
        TrainingRoutes(
            store: training, library: teaching, identity: identity, views: webViews, audit: identity.audit, dicomweb: dicomweb,
            logger: logger
        )
        .register(on: router)
        ReadingPages(views: webViews, store: reading, archive: archive, identity: identity, logger: logger).register(on: router)
        TurnaroundPage(views: webViews, store: reading).register(on: router)
        LaboratoryPages(views: webViews, store: laboratory, reading: reading, identity: identity, logger: logger).register(on: router)
        ProgrammeRoutes(store: programme, identity: identity, views: webViews, logger: logger).register(on: router)
        HealthRoutes(store: health, identity: identity, teaching: teaching, programme: programme, views: webViews, logger: logger).register(
            on: router)
        EducationRoutes(
            store: programme, teaching: teaching, identity: identity, views: webViews, address: address, logger: logger,
            courseware: courseware
        ).register(on: router)
        WebRoutes(
            views: webViews, archive: archive, configuration: configuration,
            signIn: { username, password, source in await auth.webSignIn(username: username, password: password, source: source) },
            signOut: { request, context in await auth.webSignOut(request, context) },
            setLanguage: { [identity] language, principal in
                if let id = principal.userID { try? await identity.setLanguage(language, personID: id) }
            },
            firstRun: WebFirstRun(
                linkState: { token in await auth.setupLinkState(token) },
                createAdministrator: { form, source in
                    await auth.createFirstAdministrator(
                        token: form.token, username: form.username, displayName: form.displayName, password: form.password,
                        language: form.language, source: source)
                },
                hints: { [identity, setupToken] in
                    let demo = ((try? await identity.people()) ?? []).filter { $0.demo && !$0.disabled }.map(\.username)
                    // Another process's setup may have created the administrator meanwhile.
                    var pending = setupToken.pending != nil
                    if pending { pending = (try? await identity.hasAdministrator()) != true }
                    return FirstRunHints(setupPending: pending, demoUsernames: demo)
                },
                minimumPasswordLength: identity.policy.minimumPasswordLength),
            logger: logger
        ).register(on: router)
        let host = configuration.host
        return Application(
            router: router,
            server: .http1WebSocketUpgradeAnsweringParserErrors(webSocketRouter: webSocketRouter),
            configuration: .init(address: .hostname(configuration.host, port: configuration.httpPort), serverName: "Atrium"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                address.setBound(host: host, port: port)
                await onServerRunning(port)
            },
            logger: logger)
    }

    /// The DIMSE listener on `host:dicomPort`. `onListening` receives the bound port (useful with port 0).
    public func makeDIMSEListener(
        secure: Bool = false, onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> DIMSEListener {
        DIMSEListener(
            configuration: configuration, archive: archive, logger: logger, secure: secure, metrics: metrics.dimse,
            identity: identity, onListening: onListening)
    }

    /// The HL7 v2 MLLP listener on `host:hl7Port` (`port` overrides it, e.g. 0 in tests). `onListening` receives the bound port.
    public func makeMLLPListener(port: Int? = nil, onListening: @escaping @Sendable (Int) async -> Void = { _ in }) -> MLLPListener {
        MLLPListener(
            host: configuration.host, port: port ?? configuration.hl7Port ?? 2575,
            maximumMessageBytes: configuration.hl7MaximumMessageBytes, idleTimeout: .seconds(configuration.hl7IdleSeconds),
            optional: port == nil && configuration.hl7PortOptional, store: laboratory, logger: logger, onListening: onListening,
            onStored: { [laboratoryCriticalPath] ids in await laboratoryCriticalPath.arrived(ids) })
    }

    /// Laboratory critical values onto the consultations' critical-result path (``LaboratoryCriticalPath``).
    var laboratoryCriticalPath: LaboratoryCriticalPath {
        LaboratoryCriticalPath(store: laboratory, reading: reading, logger: logger)
    }

    /// The consultation workflow's clock-driven steps (lease expiry, escalation, documents of signed reports, late studies).
    public func makeReadingMaintenance() -> some Service {
        ReadingMaintenance(store: reading, archive: archive, logger: logger, mailer: mailer, cluster: identity.cluster)
    }

    /// Runs ``makeReadingMaintenance()`` until the task is cancelled (tests that run the server's parts themselves).
    public func runReadingMaintenance() async throws {
        try await ReadingMaintenance(store: reading, archive: archive, logger: logger, mailer: mailer, cluster: identity.cluster).run()
    }

    /// The mailer of e-mail notifications, when `smtpURL` is configured.
    var mailer: ReadingMailer? {
        guard let url = configuration.smtpURL, let relay = SMTPRelay(url: url) else { return nil }
        return ReadingMailer(
            store: reading, client: SMTPClient(relay: relay, from: configuration.smtpFrom),
            retrySeconds: Double(configuration.mailRetrySeconds), logger: logger)
    }

    /// Issues the one-time setup token when no administrator exists; nil when one does.
    public func issueSetupTokenIfNeeded() async throws -> String? {
        try await identity.hasAdministrator() ? nil : await setupToken.issueShared()
    }

    /// Runs the demo steps when asked (``DemoSeed``), issues the setup token while no administrator exists, then serves HTTP and DIMSE until SIGINT or
    /// SIGTERM; on either, both stop accepting and finish what is in flight (at most 30 seconds) before returning.
    public func run(
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in },
        onDICOMListening: @escaping @Sendable (Int) async -> Void = { _ in },
        onDICOMTLSListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws {
        try await archive.blobs.prepare()
        if let index = archive.index as? PostgresIndex { try await index.prepare() }
        try await identity.prepare()
        try await teaching.prepare()
        try await training.prepare()
        try await reading.prepare()
        try await laboratory.prepare()
        try await health.prepare()
        // Before anything stores or sweeps: rows a power loss took are indexed again from their blobs.
        try await archive.recoverIndex()
        logger.info("index durability", metadata: ["mode": "\(archive.indexDurability.rawValue)"])
        _ = try? await archive.sweepOrphans()
        // The demo steps (``DemoSeed/steps``: institutions, people, studies, then each workflow's own), in order.
        if configuration.demo {
            firstRun.record(
                try await DemoSeed.run(configuration: configuration, archive: archive, identity: identity, logger: logger))
        }
        // The token itself goes only into the start banner's setup link, never into the log.
        if try await issueSetupTokenIfNeeded() != nil {
            logger.notice("no administrator yet: open the one-time setup link of the start banner (or POST /api/setup, see README)")
        }
        let app = makeApplication(onServerRunning: onServerRunning)
        // First in the list, so stopped last, after the listeners have finished what was in flight.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if archive.indexDurability == .recoverFromBlobs {
            services.append(.init(service: IndexCheckpointService(archive: archive, logger: logger)))
        }
        services.append(.init(service: app))
        services.append(.init(service: makeReadingMaintenance()))
        if configuration.dicomPlain { services.append(.init(service: makeDIMSEListener(onListening: onDICOMListening))) }
        if configuration.dicomTLSPort != nil {
            services.append(.init(service: makeDIMSEListener(secure: true, onListening: onDICOMTLSListening)))
        }
        if configuration.hl7Port != nil { services.append(.init(service: makeMLLPListener())) }
        // Done once, then gone: its end stops nothing else.
        services.append(
            .init(
                service: ProgrammeWarmUp(programme: programme, logger: logger), successTerminationBehavior: .ignore,
                failureTerminationBehavior: .ignore))
        var group = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        group.maximumGracefulShutdownDuration = .seconds(30)
        try await ServiceGroup(configuration: group).run()
        // Every listener has stopped and every store has answered: the index is whole on disk.
        try await archive.checkpointIndex(clean: true)
    }
}

extension AtriumServer {
    /// Course files live beside the archive, never among its blobs (whose orphan sweep keeps only DICOM instances):
    /// `courseware/` in the data directory, or, when the archive is in an S3-compatible store, the same bucket under the
    /// archive's prefix with `-courseware` appended (a sibling prefix, outside the archive's listing).
    static func coursewareBlobs(archive: Archive, directory: String) throws -> any BlobStore {
        if let s3 = archive.blobs as? S3BlobStore {
            var configuration = s3.configuration
            configuration.prefix = configuration.prefix.isEmpty ? "atrium-courseware" : configuration.prefix + "-courseware"
            return S3BlobStore(configuration: configuration)
        }
        return try FileSystemBlobStore(root: directory + "/courseware")
    }
}

/// Reads the programme's facts once after the start, in the background, so that the office's first view of the
/// dashboard does not pay for the cold read (seconds with a year of data: every exam attempt scored); later views keep
/// them under their fingerprint (``ProgrammeStore/facts()``).
struct ProgrammeWarmUp: Service {
    let programme: ProgrammeStore
    let logger: Logger

    func run() async throws {
        do {
            _ = try await programme.facts()
        } catch {
            logger.warning("programme facts not read ahead", metadata: ["error": "\(error)"])
        }
    }
}

/// Syncs the index about once a second when it runs as a blob log (``Archive/checkpointIndex(clean:)``), so that a
/// start after a power loss has only the last second's blobs to look at.
struct IndexCheckpointService: Service {
    let archive: Archive
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                do {
                    try await archive.checkpointIndex()
                } catch {
                    logger.error("index checkpoint failed", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}
