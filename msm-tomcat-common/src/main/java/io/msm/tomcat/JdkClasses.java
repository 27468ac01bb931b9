package io.msm.tomcat;

/**
 * Tells the JDK's own classes: its principals (javax.security.auth.kerberos, com.sun.security.auth,
 * ...) are in serialFilter's built-in JDK list, so a stored login that holds one would be refused whole.
 */
final class JdkClasses {
    /** The JDK's own loader besides the boot loader, from Java 9 on; null on Java 8. */
    private static final ClassLoader PLATFORM_LOADER = platformLoader();

    private JdkClasses() {
    }

    /**
     * @return true for a class of the boot loader, or from Java 9 on of the platform loader (Java 8's
     *     extension loader holds jars an administrator added, not the JDK's own)
     */
    static boolean isJdkClass(Class<?> type) {
        ClassLoader loader = type.getClassLoader();
        return loader == null || (loader == PLATFORM_LOADER && PLATFORM_LOADER != null);
    }

    private static ClassLoader platformLoader() {
        try {
            return (ClassLoader) ClassLoader.class.getMethod("getPlatformClassLoader").invoke(null);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null; // Java 8
        }
    }
}
