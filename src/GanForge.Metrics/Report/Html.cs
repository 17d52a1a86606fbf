using System.Text;

namespace GanForge.Metrics.Report;

/// <summary>Escaping for text placed in HTML/XML content and attributes.</summary>
internal static class Html
{
    /// <summary>Escapes &amp;, &lt;, &gt;, quotes, and drops control characters XML does not allow.</summary>
    public static string Escape(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (char c in s)
        {
            switch (c)
            {
                case '&': sb.Append("&amp;"); break;
                case '<': sb.Append("&lt;"); break;
                case '>': sb.Append("&gt;"); break;
                case '"': sb.Append("&quot;"); break;
                case '\'': sb.Append("&#39;"); break;
                default:
                    if (c >= 0x20 || c is '\n' or '\r' or '\t') sb.Append(c);
                    break;
            }
        }
        return sb.ToString();
    }
}
