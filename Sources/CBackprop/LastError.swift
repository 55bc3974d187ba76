#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The calling thread's last failure message, in thread-local storage owned by the
/// library (a strdup'd copy per thread, freed when the thread exits or the next message
/// replaces it).
enum LastError {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { free($0) }
        return key
    }()

    private static let none: StaticString = ""

    static func record(_ message: String) {
        let previous = pthread_getspecific(key)
        pthread_setspecific(key, strdup(message))
        free(previous)
    }

    static var message: UnsafePointer<CChar> {
        if let stored = pthread_getspecific(key) {
            return UnsafePointer(stored.assumingMemoryBound(to: CChar.self))
        }
        return cString(none)
    }
}

/// A static string's bytes as a C string; Swift emits string literals NUL-terminated.
func cString(_ text: StaticString) -> UnsafePointer<CChar> {
    UnsafeRawPointer(text.utf8Start).assumingMemoryBound(to: CChar.self)
}
