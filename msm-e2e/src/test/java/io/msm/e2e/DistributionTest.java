package io.msm.e2e;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * What every test of Tomcat distributions shares: a folder of its own, the Tomcat lines it runs on
 * (the {@code lines} method source), and what it started, stopped in reverse order after the test.
 */
abstract class DistributionTest {
    @TempDir
    Path dir;
    private final List<AutoCloseable> running = new ArrayList<>();

    static List<TomcatLine> lines() {
        return TomcatLine.all();
    }

    @AfterEach
    void stopAll() throws Exception {
        for (int i = running.size() - 1; i >= 0; i--) {
            running.get(i).close();
        }
    }

    /** @return the resource, stopped after the test */
    <T extends AutoCloseable> T track(T resource) {
        running.add(resource);
        return resource;
    }
}
