// The module's line about the web server's PHP: asks GET {api}/doctor
// (Seiger\sTask\Http\DoctorProbe), which also records the answer for
// `php artisan stask:doctor`.
(function () {
    'use strict';
    var box = document.getElementById('stask-web-php');
    if (!box || !window.fetch) {
        return;
    }
    var url = box.getAttribute('data-url');
    fetch(url, {credentials: 'same-origin', headers: {Accept: 'application/json'}})
        .then(function (r) { return r.json(); })
        .then(function (d) {
            if (!d || !d.php) {
                throw new Error((d && d.message) || 'no answer');
            }
            var text = 'Web server PHP ' + d.php + ' (' + d.sapi + '): ';
            if (d.compatible) {
                text += 'stask ' + d.extension + ' loaded (package ' + d.package + ' needs ' + d.supported + ').';
            } else if (d.extension) {
                text += 'stask ' + d.extension + ' loaded, but package ' + d.package + ' needs ' + d.supported + ': run php artisan stask:doctor.';
            } else {
                text += 'the stask extension is not loaded: run php artisan stask:doctor.';
            }
            box.textContent = text;
            box.setAttribute('data-status', d.compatible ? 'ok' : 'fail');
        })
        .catch(function (e) {
            box.textContent = 'Web server PHP: no report (' + e.message + ').';
            box.setAttribute('data-status', 'fail');
        });
}());
