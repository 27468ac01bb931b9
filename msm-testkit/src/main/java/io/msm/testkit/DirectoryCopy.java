package io.msm.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** Copies a directory tree, as an operator unpacks a webapp into a Tomcat's appBase. */
public final class DirectoryCopy {
    private DirectoryCopy() {
    }

    /** Copies {@code from} and everything under it to {@code to}, which must not hold the same files yet. */
    public static void copy(Path from, Path to) throws IOException {
        try (Stream<Path> paths = Files.walk(from)) {
            for (Path p : (Iterable<Path>) paths::iterator) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
    }
}
