package io.msm.tomcat.it;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;
import javax.servlet.http.HttpSession;

/**
 * The test webapp. Path info picks the action; the answer is "key=value" lines a test can read:
 * <ul>
 * <li>/set?k=v&amp;... sets attributes (value "unserializable" stores an object that cannot be serialized)</li>
 * <li>/get prints the session, /peek prints it without creating one, /none never touches the session</li>
 * <li>/slow?ms=N&amp;k=v... loads the session, waits N ms, then sets the attributes</li>
 * <li>/append?item=x adds to the list "items", in place after the first call (no setAttribute)</li>
 * <li>/kept?item=x adds to the list the last /append of this session left, through a reference the webapp
 * kept: the request uses the session but reads no attribute</li>
 * <li>/incr adds one to "counter", /invalidate ends the session, /timeout?s=N sets maxInactiveInterval</li>
 * <li>/hold?gate=G&amp;k=v&amp;remove=r loads the session, waits until the test opens gate G, then sets k,
 * removes r, or invalidates the session with invalidate=true (k=note: a {@link Note}, as /set)</li>
 * <li>/invalidate?gate=G ends the session, then waits at gate G before the request ends</li>
 * <li>/throw sets "thrown" and fails; /error-page (the error page of {@link TomcatNode#errorPages}) waits
 * at the failing request's gate parameter if it has one, then sets "errorSeen" to the URI that failed</li>
 * <li>/fresh?k=v looks for the session first (getSession(false)), creates one if there is none, sets k</li>
 * <li>/login?user=u&amp;password=p logs in with HttpServletRequest.login, its login cached in the session</li>
 * <li>/probe stores an activation listener; *.png peeks, like a static resource would</li>
 * <li>/async?k=v starts async processing and dispatches to /set?k=v</li>
 * <li>/migrate?k=v invalidates the session, then takes a new one and sets k</li>
 * <li>/set?k=note sets k to a {@link Note}, a webapp's object that is not Serializable</li>
 * <li>/instance?name=n&amp;class=c&amp;value=v sets n to new c(v), c loaded by the webapp; /remove?name=n removes n</li>
 * </ul>
 */
public class SessionServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    /** Lists /append stored, by session id, as a webapp may keep references to what it put in a session. */
    private static final Map<String, java.util.List<String>> KEPT = new ConcurrentHashMap<>();
    private static final Map<String, HttpSession> STASHED = new ConcurrentHashMap<>();

    /** @return the session a request to /stash kept, as a job would hold it */
    static HttpSession stashed(String id) {
        return STASHED.get(id);
    }

    @Override
    protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String action = req.getPathInfo() == null ? "/get" : req.getPathInfo();
        if (action.endsWith(".png") || req.getServletPath().endsWith(".png")) {
            action = "/peek";
        }
        resp.setContentType("text/plain");
        PrintWriter out = resp.getWriter();
        HttpSession session;
        switch (action) {
            case "/none":
                out.println("untouched");
                return;
            case "/async":
                req.startAsync().dispatch("/s/set?" + req.getQueryString());
                return;
            case "/peek":
                session = req.getSession(false);
                break;
            case "/rename":
                // Fixation protection alone, as a webapp may do at a login of its own: a new id, nothing else.
                req.changeSessionId();
                session = req.getSession(false);
                break;
            case "/set":
                session = req.getSession();
                for (String name : Collections.list(req.getParameterNames())) {
                    String value = req.getParameter(name);
                    session.setAttribute(name, "unserializable".equals(value) ? new Object()
                            : "note".equals(value) ? new Note(name) : value);
                }
                break;
            case "/slow":
                // Loads the session, works for a while, then sets what it was given.
                session = req.getSession();
                sleep(Long.parseLong(req.getParameter("ms")));
                for (String name : Collections.list(req.getParameterNames())) {
                    if (!name.equals("ms")) {
                        session.setAttribute(name, req.getParameter(name));
                    }
                }
                break;
            case "/hold":
                // The test decides when this request goes on, so overlaps need no sleeps.
                session = req.getSession();
                pass(req.getParameter("gate"), req.getParameter("gateSeconds"));
                for (String name : Collections.list(req.getParameterNames())) {
                    String value = req.getParameter(name);
                    if (name.equals("remove")) {
                        session.removeAttribute(value);
                    } else if (name.equals("invalidate")) {
                        session.invalidate();
                        out.println("invalidated");
                        return;
                    } else if (!name.equals("gate") && !name.equals("gateSeconds")) {
                        session.setAttribute(name, "note".equals(value) ? new Note(name) : value);
                    }
                }
                break;
            case "/fresh":
                // As many webapps do: look, then create. A stale cookie is thus looked up twice.
                session = req.getSession(false);
                out.println("had=" + (session != null));
                if (session == null) {
                    session = req.getSession(true);
                }
                for (String name : Collections.list(req.getParameterNames())) {
                    session.setAttribute(name, req.getParameter(name));
                }
                break;
            case "/login":
                session = req.getSession();
                try {
                    req.login(req.getParameter("user"), req.getParameter("password"));
                } catch (javax.servlet.ServletException e) {
                    out.println("login=failed " + e.getMessage());
                }
                session = req.getSession(); // the login may have renamed it
                break;
            case "/append":
                // The first call stores a list; later calls change it in place, without setAttribute.
                session = req.getSession();
                @SuppressWarnings("unchecked")
                java.util.List<String> items = (java.util.List<String>) session.getAttribute("items");
                if (items == null) {
                    items = new java.util.ArrayList<>();
                    session.setAttribute("items", items);
                }
                items.add(req.getParameter("item"));
                KEPT.put(session.getId(), items);
                break;
            case "/stash":
                // A job or a WebSocket endpoint keeps the HttpSession to change it later, outside any request.
                session = req.getSession();
                STASHED.put(session.getId(), session);
                out.println("stashed");
                return;
            case "/kept":
                session = req.getSession(false);
                KEPT.get(session.getId()).add(req.getParameter("item"));
                out.println("changed without getAttribute");
                return;
            case "/big":
                // One user's large session: random bytes, so nothing compresses them away, in arrays and
                // attributes within the serialFilter's default maxarray and maxbytes.
                session = req.getSession();
                int total = (int) (Double.parseDouble(req.getParameter("mb")) * 1_000_000);
                java.util.ArrayList<byte[]> part = new java.util.ArrayList<>();
                int parts = 0;
                for (int left = total; left > 0; left -= 500_000) {
                    byte[] bytes = new byte[Math.min(500_000, left)];
                    java.util.concurrent.ThreadLocalRandom.current().nextBytes(bytes);
                    part.add(bytes);
                    if (part.size() == 8 || left <= 500_000) {
                        session.setAttribute("blob." + parts++, part);
                        part = new java.util.ArrayList<>();
                    }
                }
                session.setAttribute("blob.parts", parts);
                session.setAttribute("blob.sum", blobSum(session));
                out.println("blob.length=" + total);
                return;
            case "/blob":
                session = req.getSession(false);
                Object sum = session == null ? null : session.getAttribute("blob.sum");
                out.println("blob.length=" + (sum == null ? -1 : blobLength(session)));
                out.println("blob.intact=" + (sum != null && sum.equals(blobSum(session))));
                out.println("id=" + (session == null ? "none" : session.getId()));
                return;
            case "/guarded":
                // A URI that writes, refused to anyone without a session, as a protected page is.
                session = req.getSession(false);
                if (session == null) {
                    resp.sendError(401);
                    return;
                }
                Integer guarded = (Integer) session.getAttribute("counter");
                session.setAttribute("counter", guarded == null ? 1 : guarded + 1);
                break;
            case "/redirect":
                // A page that looks for the right to it in the session, finds none, and sends the user to
                // the login page: no change, a 302.
                session = req.getSession(false);
                if (session == null || session.getAttribute("admin") == null) {
                    resp.sendRedirect(req.getContextPath() + "/s/get");
                    return;
                }
                session.setAttribute("visits", String.valueOf(System.nanoTime()));
                break;
            case "/instance":
                // A value of a class only some webapps have (TomcatNode#webappClasses), as after a rolling upgrade.
                session = req.getSession();
                try {
                    session.setAttribute(req.getParameter("name"), Thread.currentThread().getContextClassLoader()
                            .loadClass(req.getParameter("class")).getConstructor(String.class)
                            .newInstance(req.getParameter("value")));
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException(e);
                }
                break;
            case "/remove":
                session = req.getSession();
                session.removeAttribute(req.getParameter("name"));
                break;
            case "/incr":
                session = req.getSession();
                Integer counter = (Integer) session.getAttribute("counter");
                session.setAttribute("counter", counter == null ? 1 : counter + 1);
                break;
            case "/probe":
                session = req.getSession();
                session.setAttribute("probe", new ActivationProbe());
                break;
            case "/throw":
                req.getSession().setAttribute("thrown", "yes");
                throw new IllegalStateException("a failing page, for the error page that follows");
            case "/error-page":
                // As an error page may: look at the user's session, and note something in it.
                if (req.getParameter("gate") != null) {
                    pass(req.getParameter("gate")); // the failing request's own parameters: the test holds the page
                }
                session = req.getSession();
                out.println("error=" + req.getAttribute(javax.servlet.RequestDispatcher.ERROR_STATUS_CODE));
                session.setAttribute("errorSeen", String.valueOf(req.getAttribute(
                        javax.servlet.RequestDispatcher.ERROR_REQUEST_URI)));
                break;
            case "/migrate":
                // A login as Spring Security's migrateSession or a hand-written one does it: invalidate, then
                // a new session with what the user gave.
                req.getSession().invalidate();
                session = req.getSession(true);
                for (String name : Collections.list(req.getParameterNames())) {
                    session.setAttribute(name, req.getParameter(name));
                }
                break;
            case "/timeout":
                session = req.getSession();
                session.setMaxInactiveInterval(Integer.parseInt(req.getParameter("s")));
                break;
            case "/invalidate":
                session = req.getSession(false);
                if (session != null) {
                    session.invalidate();
                }
                if (req.getParameter("gate") != null) {
                    pass(req.getParameter("gate")); // still inside the request: what did invalidate() alone do?
                }
                out.println("invalidated");
                return;
            default:
                session = req.getSession();
        }
        out.println("method=" + req.getMethod()); // a FORM login's replay of a POST arrives as a GET
        out.println("user=" + req.getRemoteUser());
        out.println("authType=" + req.getAuthType());
        if (session == null) {
            out.println("session=none");
            return;
        }
        out.println("id=" + session.getId());
        out.println("creation=" + session.getCreationTime());
        out.println("maxInactive=" + session.getMaxInactiveInterval());
        TreeMap<String, Object> attrs = new TreeMap<>();
        for (String name : Collections.list(session.getAttributeNames())) {
            attrs.put(name, session.getAttribute(name));
        }
        attrs.forEach((k, v) -> out.println("attr." + k + "=" + v));
    }

    @SuppressWarnings("unchecked")
    private static int blobSum(HttpSession session) {
        int sum = 0;
        for (int i = 0; i < (Integer) session.getAttribute("blob.parts"); i++) {
            for (byte[] bytes : (java.util.List<byte[]>) session.getAttribute("blob." + i)) {
                sum = 31 * sum + java.util.Arrays.hashCode(bytes);
            }
        }
        return sum;
    }

    @SuppressWarnings("unchecked")
    private static int blobLength(HttpSession session) {
        int length = 0;
        for (int i = 0; i < (Integer) session.getAttribute("blob.parts"); i++) {
            for (byte[] bytes : (java.util.List<byte[]>) session.getAttribute("blob." + i)) {
                length += bytes.length;
            }
        }
        return length;
    }

    /** A webapp's own class that is not Serializable: Kryo stores it, Java serialization cannot. */
    static final class Note {
        final String text;

        Note(String text) {
            this.text = text;
        }

        @SuppressWarnings("unused") // for Kryo
        private Note() {
            this("");
        }

        @Override
        public String toString() {
            return "note of " + text;
        }
    }

    /** Where /hold requests wait; shared by every Tomcat of the test JVM. */
    static final class Gate {
        final AtomicInteger arrived = new AtomicInteger();
        final CountDownLatch open = new CountDownLatch(1);
        /** Requests that went on because their wait ran out, not because the test opened the gate. */
        final AtomicInteger timedOut = new AtomicInteger();
    }

    private static final Map<String, Gate> GATES = new ConcurrentHashMap<>();

    static Gate gate(String name) {
        return GATES.computeIfAbsent(name, n -> new Gate());
    }

    /** Arrives at the gate and waits until it opens; bounded, below the Browser's 20 s request timeout. */
    static void pass(String name) {
        pass(name, null);
    }

    /**
     * @param seconds how long at most, 15 when null; longer only for a request whose answer the test
     *     does not wait for (a lock held while a slow timeline plays out on a busy machine)
     */
    private static void pass(String name, String seconds) {
        Gate g = gate(name);
        g.arrived.incrementAndGet();
        try {
            if (!g.open.await(seconds == null ? 15 : Long.parseLong(seconds), TimeUnit.SECONDS)) {
                g.timedOut.incrementAndGet(); // the overlap the test built is gone: GatedClusterTest fails it
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
