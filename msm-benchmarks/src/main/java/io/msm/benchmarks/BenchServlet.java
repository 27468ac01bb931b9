package io.msm.benchmarks;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.Map;

import javax.management.JMException;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;
import javax.servlet.http.HttpSession;

/**
 * The benchmark webapp. {@code /create?n=N} makes a session holding {@link Payload#create}(N);
 * {@code /read} reads every attribute; {@code /write} increments the counter. Both answer 404 when
 * the requested session is gone (a lost session), and their body is the session's id, so the load
 * generator can tell a session that was renamed.
 */
public final class BenchServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String action = req.getPathInfo() == null ? "" : req.getPathInfo();
        HttpSession session;
        switch (action) {
            case "/create":
                session = req.getSession(true);
                for (Map.Entry<String, Object> a : Payload.create(Integer.parseInt(req.getParameter("n"))).entrySet()) {
                    session.setAttribute(a.getKey(), a.getValue());
                }
                break;
            case "/read":
                session = req.getSession(false);
                if (session != null) {
                    resp.setHeader("X-Size", Integer.toString(read(session)));
                }
                break;
            case "/write":
                session = req.getSession(false);
                if (session != null) {
                    Integer counter = (Integer) session.getAttribute(Payload.COUNTER);
                    session.setAttribute(Payload.COUNTER, counter == null ? 1 : counter + 1);
                }
                break;
            case "/stats":
                stats(req, resp);
                return;
            default:
                resp.sendError(HttpServletResponse.SC_BAD_REQUEST, "use /create?n=N, /read, /write or /stats");
                return;
        }
        if (session == null) {
            resp.sendError(HttpServletResponse.SC_NOT_FOUND, "no session");
            return;
        }
        Object counter = session.getAttribute(Payload.COUNTER);
        if (counter != null) {
            resp.setHeader("X-Counter", counter.toString()); // the fault run checks that no increment was lost
        }
        byte[] body = session.getId().getBytes(StandardCharsets.US_ASCII);
        resp.setContentType("text/plain");
        resp.setContentLength(body.length);
        resp.getOutputStream().write(body);
    }

    /**
     * Answers {@code name value} lines for a soak run: the heap used after a full collection, the
     * JVM's threads, this webapp's sessions in memory and msm's held entries (its JMX bean
     * {@code io.msm:type=HeldEntries}), which a leak would make grow.
     */
    private static void stats(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        StringBuilder out = new StringBuilder();
        System.gc();
        MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
        out.append("HeapUsedAfterGc ").append(heap.getUsed()).append('\n');
        out.append("Threads ").append(ManagementFactory.getThreadMXBean().getThreadCount()).append('\n');
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        String context = req.getContextPath().isEmpty() ? "/" : req.getContextPath();
        try {
            for (String type : new String[] {"HeldEntries", "SessionStatistics"}) {
                for (ObjectName name : server.queryNames(new ObjectName("io.msm:type=" + type + ",*"), null)) {
                    if (!context.equals(name.getKeyProperty("context"))) {
                        continue;
                    }
                    for (MBeanAttributeInfo a : server.getMBeanInfo(name).getAttributes()) {
                        out.append(type).append('.').append(a.getName()).append(' ')
                                .append(server.getAttribute(name, a.getName())).append('\n');
                    }
                }
            }
        } catch (JMException e) {
            throw new IOException("msm's beans cannot be read: " + e, e);
        }
        resp.setContentType("text/plain");
        resp.getWriter().write(out.toString());
    }

    /** Touches every attribute as a page rendering them would; the result keeps the JIT from dropping it. */
    private static int read(HttpSession session) {
        int size = 0;
        for (String name : Payload.NAMES) {
            Object value = session.getAttribute(name);
            if (value instanceof Collection) {
                size += ((Collection<?>) value).size();
            } else if (value instanceof Map) {
                size += ((Map<?, ?>) value).size();
            } else if (value instanceof Profile) {
                size += ((Profile) value).roles().size();
            } else if (value != null) {
                size += value.toString().length();
            }
        }
        return size;
    }
}
