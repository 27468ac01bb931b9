package io.msm.tomcat.it;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.Collections;
import java.util.TreeMap;

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
 * <li>/incr adds one to "counter", /invalidate ends the session, /timeout?s=N sets maxInactiveInterval</li>
 * <li>/probe stores an activation listener; *.png peeks, like a static resource would</li>
 * </ul>
 */
public class SessionServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;

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
            case "/peek":
                session = req.getSession(false);
                break;
            case "/set":
                session = req.getSession();
                for (String name : Collections.list(req.getParameterNames())) {
                    String value = req.getParameter(name);
                    session.setAttribute(name, "unserializable".equals(value) ? new Object() : value);
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
            case "/timeout":
                session = req.getSession();
                session.setMaxInactiveInterval(Integer.parseInt(req.getParameter("s")));
                break;
            case "/invalidate":
                session = req.getSession(false);
                if (session != null) {
                    session.invalidate();
                }
                out.println("invalidated");
                return;
            default:
                session = req.getSession();
        }
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

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
