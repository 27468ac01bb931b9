package io.msm.tomcat.it;

import java.io.IOException;

import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

/** The FORM login page and its error page. */
public class LoginPageServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;

    @Override
    protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        resp.setContentType("text/html");
        resp.getWriter().println(req.getServletPath().contains("error") ? "login-error"
                : "<form method='post' action='j_security_check'>login-form</form>");
    }
}
