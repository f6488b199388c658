import Hummingbird
import HummingbirdWebSocket
import NIOCore
import Platform

/// The request context of every Atrium route: Hummingbird's core storage plus who is asking (set by the
/// authentication middleware) and the language to answer in.
public struct AtriumRequestContext: RequestContext, RemoteAddressRequestContext, WebSocketRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The client's address (the TCP peer), for the audit trail and the sign-in lock-out.
    public let remoteAddress: SocketAddress?
    /// The authenticated caller, or nil for an anonymous request.
    public var principal: Principal?
    /// The interface language for this request: the person's choice, else the `lang` cookie, else Accept-Language.
    public var language: InterfaceLanguage
    /// The UPS event channel's WebSocket handler, when this request upgrades (``UPSRoutes``).
    public let webSocket: WebSocketHandlerReference<AtriumRequestContext>

    public init(source: Source) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
        self.principal = nil
        self.language = .chinese
        self.webSocket = WebSocketHandlerReference()
    }
}
