// The one bundle the integration serves: the Network panel and the dashboard cards.
import "./panel.js";
import "./cards.js";
