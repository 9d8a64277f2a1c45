export default function CheckEmailPage() {
  return (
    <main className="narrow">
      <div className="card">
        <h1>Check your email</h1>
        <p>
          If the address can sign in, a link is on its way. Open it in this browser within 15
          minutes; it works once.
        </p>
        <a href="/login">Back to sign-in</a>
      </div>
    </main>
  );
}
