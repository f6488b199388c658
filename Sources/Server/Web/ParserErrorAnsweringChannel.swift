import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOHTTP1

/// The HTTP/1.1 channel with the WebSocket upgrade, answering requests that NIO's HTTP decoder refuses: header fields
/// past its caps (80 KiB a field, 80 KiB in all, 1,000 fields) get 431, other malformed requests 400, each with the
/// reason, and the connection is closed. Without it such a request left the connection open and unanswered (the
/// upgrade pipeline turns decoder errors into nothing) until the client gave up (docs/reliability.md, Hostile input).
struct ParserErrorAnsweringChannel: ServerChildChannel {
    typealias Value = HTTP1WebSocketUpgradeChannel.Value
    let inner: HTTP1WebSocketUpgradeChannel

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        inner.setup(channel: channel, logger: logger).flatMapThrowing { value in
            try channel.pipeline.syncOperations.addHandler(HTTPParserErrorResponder())
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}

/// Answers the first ``HTTPParserError`` on a connection with 431 or 400 and closes it; passes everything else on.
final class HTTPParserErrorResponder: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private var answered = false

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        guard !answered else { return }
        answered = true
        let status: HTTPResponseStatus
        let message: String
        if case .headerOverflow = parserError {
            status = .requestHeaderFieldsTooLarge
            message = "the request line or header fields are larger than the server accepts (80 KiB a field, 80 KiB in all, 1,000 fields)"
        } else {
            status = .badRequest
            message = "the request is not valid HTTP/1.1 (\(parserError))"
        }
        let json = (try? JSONSerialization.data(withJSONObject: ["error": message])) ?? Data()
        var body = context.channel.allocator.buffer(capacity: json.count)
        body.writeBytes(json)
        var head = HTTPResponseHead(version: .http1_1, status: status)
        head.headers.add(name: "Content-Type", value: "application/json")
        head.headers.add(name: "Content-Length", value: "\(json.count)")
        head.headers.add(name: "Connection", value: "close")
        let channel = context.channel
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }
}

extension HTTPServerBuilder {
    /// `.http1WebSocketUpgrade(webSocketRouter:)` whose connections answer malformed and oversized requests
    /// (``ParserErrorAnsweringChannel``).
    static func http1WebSocketUpgradeAnsweringParserErrors<WSResponderBuilder: HTTPResponderBuilder>(
        webSocketRouter: WSResponderBuilder
    ) -> HTTPServerBuilder where WSResponderBuilder.Responder.Context: WebSocketRequestContext {
        let webSocketResponder = webSocketRouter.buildResponder()
        return HTTPServerBuilder { responder in
            ParserErrorAnsweringChannel(
                inner: HTTP1WebSocketUpgradeChannel(
                    responder: responder, webSocketResponder: webSocketResponder,
                    configuration: HTTP1WebSocketUpgradeChannel.Configuration()))
        }
    }
}
