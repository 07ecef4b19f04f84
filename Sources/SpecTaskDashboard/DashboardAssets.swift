import Foundation
import Hummingbird
import NIOCore

/// The page's files, read once from the binary's resource bundle (`Resources/dashboard`): nothing is fetched
/// from elsewhere, at build time or at run time.
struct DashboardAssets: Sendable {
    private var files: [String: (contentType: String, bytes: ByteBuffer)]

    static let contentTypes = [
        "html": "text/html; charset=utf-8",
        "css": "text/css; charset=utf-8",
        "js": "text/javascript; charset=utf-8",
        "svg": "image/svg+xml",
        "png": "image/png",
    ]

    static func load() throws -> DashboardAssets {
        guard let directory = Bundle.module.url(forResource: "dashboard", withExtension: nil) else {
            throw DashboardError("the bundled dashboard folder is missing from \(Bundle.module.bundlePath)")
        }
        var files: [String: (String, ByteBuffer)] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) {
            let ext = (name as NSString).pathExtension
            guard let type = contentTypes[ext] else { continue }
            let data = try Data(contentsOf: directory.appendingPathComponent(name))
            files[name] = (type, ByteBuffer(bytes: data))
        }
        guard files["index.html"] != nil else { throw DashboardError("the dashboard's index.html is missing") }
        return DashboardAssets(files: files)
    }

    /// The file named `name` (a name from the folder, never a path), or `nil`.
    func response(for name: String) -> Response? {
        guard let file = files[name] else { return nil }
        return Response(
            status: .ok,
            headers: [.contentType: file.contentType, .cacheControl: "no-cache"],
            body: .init(byteBuffer: file.bytes)
        )
    }
}
