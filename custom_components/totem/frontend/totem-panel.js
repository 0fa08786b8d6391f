var re=Object.defineProperty;var oe=(r,t,e)=>t in r?re(r,t,{enumerable:!0,configurable:!0,writable:!0,value:e}):r[t]=e;var m=(r,t,e)=>oe(r,typeof t!="symbol"?t+"":t,e);var tt=globalThis,et=tt.ShadowRoot&&(tt.ShadyCSS===void 0||tt.ShadyCSS.nativeShadow)&&"adoptedStyleSheets"in Document.prototype&&"replace"in CSSStyleSheet.prototype,pt=Symbol(),Ct=new WeakMap,H=class{constructor(t,e,s){if(this._$cssResult$=!0,s!==pt)throw Error("CSSResult is not constructable. Use `unsafeCSS` or `css` instead.");this.cssText=t,this.t=e}get styleSheet(){let t=this.o,e=this.t;if(et&&t===void 0){let s=e!==void 0&&e.length===1;s&&(t=Ct.get(e)),t===void 0&&((this.o=t=new CSSStyleSheet).replaceSync(this.cssText),s&&Ct.set(e,t))}return t}toString(){return this.cssText}},Ot=r=>new H(typeof r=="string"?r:r+"",void 0,pt),$=(r,...t)=>{let e=r.length===1?r[0]:t.reduce((s,i,o)=>s+(n=>{if(n._$cssResult$===!0)return n.cssText;if(typeof n=="number")return n;throw Error("Value passed to 'css' function must be a 'css' function result: "+n+". Use 'unsafeCSS' to pass non-literal values, but take care to ensure page security.")})(i)+r[o+1],r[0]);return new H(e,r,pt)},Mt=(r,t)=>{if(et)r.adoptedStyleSheets=t.map(e=>e instanceof CSSStyleSheet?e:e.styleSheet);else for(let e of t){let s=document.createElement("style"),i=tt.litNonce;i!==void 0&&s.setAttribute("nonce",i),s.textContent=e.cssText,r.appendChild(s)}},ut=et?r=>r:r=>r instanceof CSSStyleSheet?(t=>{let e="";for(let s of t.cssRules)e+=s.cssText;return Ot(e)})(r):r;var{is:ae,defineProperty:ne,getOwnPropertyDescriptor:le,getOwnPropertyNames:ce,getOwnPropertySymbols:de,getPrototypeOf:he}=Object,st=globalThis,Nt=st.trustedTypes,pe=Nt?Nt.emptyScript:"",ue=st.reactiveElementPolyfillSupport,F=(r,t)=>r,mt={toAttribute(r,t){switch(t){case Boolean:r=r?pe:null;break;case Object:case Array:r=r==null?r:JSON.stringify(r)}return r},fromAttribute(r,t){let e=r;switch(t){case Boolean:e=r!==null;break;case Number:e=r===null?null:Number(r);break;case Object:case Array:try{e=JSON.parse(r)}catch{e=null}}return e}},Ut=(r,t)=>!ae(r,t),Pt={attribute:!0,type:String,converter:mt,reflect:!1,useDefault:!1,hasChanged:Ut};Symbol.metadata??=Symbol("metadata"),st.litPropertyMetadata??=new WeakMap;var x=class extends HTMLElement{static addInitializer(t){this._$Ei(),(this.l??=[]).push(t)}static get observedAttributes(){return this.finalize(),this._$Eh&&[...this._$Eh.keys()]}static createProperty(t,e=Pt){if(e.state&&(e.attribute=!1),this._$Ei(),this.prototype.hasOwnProperty(t)&&((e=Object.create(e)).wrapped=!0),this.elementProperties.set(t,e),!e.noAccessor){let s=Symbol(),i=this.getPropertyDescriptor(t,s,e);i!==void 0&&ne(this.prototype,t,i)}}static getPropertyDescriptor(t,e,s){let{get:i,set:o}=le(this.prototype,t)??{get(){return this[e]},set(n){this[e]=n}};return{get:i,set(n){let c=i?.call(this);o?.call(this,n),this.requestUpdate(t,c,s)},configurable:!0,enumerable:!0}}static getPropertyOptions(t){return this.elementProperties.get(t)??Pt}static _$Ei(){if(this.hasOwnProperty(F("elementProperties")))return;let t=he(this);t.finalize(),t.l!==void 0&&(this.l=[...t.l]),this.elementProperties=new Map(t.elementProperties)}static finalize(){if(this.hasOwnProperty(F("finalized")))return;if(this.finalized=!0,this._$Ei(),this.hasOwnProperty(F("properties"))){let e=this.properties,s=[...ce(e),...de(e)];for(let i of s)this.createProperty(i,e[i])}let t=this[Symbol.metadata];if(t!==null){let e=litPropertyMetadata.get(t);if(e!==void 0)for(let[s,i]of e)this.elementProperties.set(s,i)}this._$Eh=new Map;for(let[e,s]of this.elementProperties){let i=this._$Eu(e,s);i!==void 0&&this._$Eh.set(i,e)}this.elementStyles=this.finalizeStyles(this.styles)}static finalizeStyles(t){let e=[];if(Array.isArray(t)){let s=new Set(t.flat(1/0).reverse());for(let i of s)e.unshift(ut(i))}else t!==void 0&&e.push(ut(t));return e}static _$Eu(t,e){let s=e.attribute;return s===!1?void 0:typeof s=="string"?s:typeof t=="string"?t.toLowerCase():void 0}constructor(){super(),this._$Ep=void 0,this.isUpdatePending=!1,this.hasUpdated=!1,this._$Em=null,this._$Ev()}_$Ev(){this._$ES=new Promise(t=>this.enableUpdating=t),this._$AL=new Map,this._$E_(),this.requestUpdate(),this.constructor.l?.forEach(t=>t(this))}addController(t){(this._$EO??=new Set).add(t),this.renderRoot!==void 0&&this.isConnected&&t.hostConnected?.()}removeController(t){this._$EO?.delete(t)}_$E_(){let t=new Map,e=this.constructor.elementProperties;for(let s of e.keys())this.hasOwnProperty(s)&&(t.set(s,this[s]),delete this[s]);t.size>0&&(this._$Ep=t)}createRenderRoot(){let t=this.shadowRoot??this.attachShadow(this.constructor.shadowRootOptions);return Mt(t,this.constructor.elementStyles),t}connectedCallback(){this.renderRoot??=this.createRenderRoot(),this.enableUpdating(!0),this._$EO?.forEach(t=>t.hostConnected?.())}enableUpdating(t){}disconnectedCallback(){this._$EO?.forEach(t=>t.hostDisconnected?.())}attributeChangedCallback(t,e,s){this._$AK(t,s)}_$ET(t,e){let s=this.constructor.elementProperties.get(t),i=this.constructor._$Eu(t,s);if(i!==void 0&&s.reflect===!0){let o=(s.converter?.toAttribute!==void 0?s.converter:mt).toAttribute(e,s.type);this._$Em=t,o==null?this.removeAttribute(i):this.setAttribute(i,o),this._$Em=null}}_$AK(t,e){let s=this.constructor,i=s._$Eh.get(t);if(i!==void 0&&this._$Em!==i){let o=s.getPropertyOptions(i),n=typeof o.converter=="function"?{fromAttribute:o.converter}:o.converter?.fromAttribute!==void 0?o.converter:mt;this._$Em=i;let c=n.fromAttribute(e,o.type);this[i]=c??this._$Ej?.get(i)??c,this._$Em=null}}requestUpdate(t,e,s,i=!1,o){if(t!==void 0){let n=this.constructor;if(i===!1&&(o=this[t]),s??=n.getPropertyOptions(t),!((s.hasChanged??Ut)(o,e)||s.useDefault&&s.reflect&&o===this._$Ej?.get(t)&&!this.hasAttribute(n._$Eu(t,s))))return;this.C(t,e,s)}this.isUpdatePending===!1&&(this._$ES=this._$EP())}C(t,e,{useDefault:s,reflect:i,wrapped:o},n){s&&!(this._$Ej??=new Map).has(t)&&(this._$Ej.set(t,n??e??this[t]),o!==!0||n!==void 0)||(this._$AL.has(t)||(this.hasUpdated||s||(e=void 0),this._$AL.set(t,e)),i===!0&&this._$Em!==t&&(this._$Eq??=new Set).add(t))}async _$EP(){this.isUpdatePending=!0;try{await this._$ES}catch(e){Promise.reject(e)}let t=this.scheduleUpdate();return t!=null&&await t,!this.isUpdatePending}scheduleUpdate(){return this.performUpdate()}performUpdate(){if(!this.isUpdatePending)return;if(!this.hasUpdated){if(this.renderRoot??=this.createRenderRoot(),this._$Ep){for(let[i,o]of this._$Ep)this[i]=o;this._$Ep=void 0}let s=this.constructor.elementProperties;if(s.size>0)for(let[i,o]of s){let{wrapped:n}=o,c=this[i];n!==!0||this._$AL.has(i)||c===void 0||this.C(i,void 0,o,c)}}let t=!1,e=this._$AL;try{t=this.shouldUpdate(e),t?(this.willUpdate(e),this._$EO?.forEach(s=>s.hostUpdate?.()),this.update(e)):this._$EM()}catch(s){throw t=!1,this._$EM(),s}t&&this._$AE(e)}willUpdate(t){}_$AE(t){this._$EO?.forEach(e=>e.hostUpdated?.()),this.hasUpdated||(this.hasUpdated=!0,this.firstUpdated(t)),this.updated(t)}_$EM(){this._$AL=new Map,this.isUpdatePending=!1}get updateComplete(){return this.getUpdateComplete()}getUpdateComplete(){return this._$ES}shouldUpdate(t){return!0}update(t){this._$Eq&&=this._$Eq.forEach(e=>this._$ET(e,this[e])),this._$EM()}updated(t){}firstUpdated(t){}};x.elementStyles=[],x.shadowRootOptions={mode:"open"},x[F("elementProperties")]=new Map,x[F("finalized")]=new Map,ue?.({ReactiveElement:x}),(st.reactiveElementVersions??=[]).push("2.1.2");var yt=globalThis,Lt=r=>r,it=yt.trustedTypes,Tt=it?it.createPolicy("lit-html",{createHTML:r=>r}):void 0,It="$lit$",A=`lit$${Math.random().toFixed(9).slice(2)}$`,Bt="?"+A,me=`<${Bt}>`,O=document,I=()=>O.createComment(""),B=r=>r===null||typeof r!="object"&&typeof r!="function",xt=Array.isArray,fe=r=>xt(r)||typeof r?.[Symbol.iterator]=="function",ft=`[ 	
\f\r]`,D=/<(?:(!--|\/[^a-zA-Z])|(\/?[a-zA-Z][^>\s]*)|(\/?$))/g,Rt=/-->/g,zt=/>/g,E=RegExp(`>|${ft}(?:([^\\s"'>=/]+)(${ft}*=${ft}*(?:[^ 	
\f\r"'\`<>=]|("|')|))|$)`,"g"),Ht=/'/g,Ft=/"/g,jt=/^(?:script|style|textarea|title)$/i,wt=r=>(t,...e)=>({_$litType$:r,strings:t,values:e}),a=wt(1),L=wt(2),Me=wt(3),M=Symbol.for("lit-noChange"),f=Symbol.for("lit-nothing"),Dt=new WeakMap,C=O.createTreeWalker(O,129);function Wt(r,t){if(!xt(r)||!r.hasOwnProperty("raw"))throw Error("invalid template strings array");return Tt!==void 0?Tt.createHTML(t):t}var ve=(r,t)=>{let e=r.length-1,s=[],i,o=t===2?"<svg>":t===3?"<math>":"",n=D;for(let c=0;c<e;c++){let l=r[c],d,p,h=-1,b=0;for(;b<l.length&&(n.lastIndex=b,p=n.exec(l),p!==null);)b=n.lastIndex,n===D?p[1]==="!--"?n=Rt:p[1]!==void 0?n=zt:p[2]!==void 0?(jt.test(p[2])&&(i=RegExp("</"+p[2],"g")),n=E):p[3]!==void 0&&(n=E):n===E?p[0]===">"?(n=i??D,h=-1):p[1]===void 0?h=-2:(h=n.lastIndex-p[2].length,d=p[1],n=p[3]===void 0?E:p[3]==='"'?Ft:Ht):n===Ft||n===Ht?n=E:n===Rt||n===zt?n=D:(n=E,i=void 0);let y=n===E&&r[c+1].startsWith("/>")?" ":"";o+=n===D?l+me:h>=0?(s.push(d),l.slice(0,h)+It+l.slice(h)+A+y):l+A+(h===-2?c:y)}return[Wt(r,o+(r[e]||"<?>")+(t===2?"</svg>":t===3?"</math>":"")),s]},j=class r{constructor({strings:t,_$litType$:e},s){let i;this.parts=[];let o=0,n=0,c=t.length-1,l=this.parts,[d,p]=ve(t,e);if(this.el=r.createElement(d,s),C.currentNode=this.el.content,e===2||e===3){let h=this.el.content.firstChild;h.replaceWith(...h.childNodes)}for(;(i=C.nextNode())!==null&&l.length<c;){if(i.nodeType===1){if(i.hasAttributes())for(let h of i.getAttributeNames())if(h.endsWith(It)){let b=p[n++],y=i.getAttribute(h).split(A),k=/([.?@])?(.*)/.exec(b);l.push({type:1,index:o,name:k[2],strings:y,ctor:k[1]==="."?$t:k[1]==="?"?bt:k[1]==="@"?_t:U}),i.removeAttribute(h)}else h.startsWith(A)&&(l.push({type:6,index:o}),i.removeAttribute(h));if(jt.test(i.tagName)){let h=i.textContent.split(A),b=h.length-1;if(b>0){i.textContent=it?it.emptyScript:"";for(let y=0;y<b;y++)i.append(h[y],I()),C.nextNode(),l.push({type:2,index:++o});i.append(h[b],I())}}}else if(i.nodeType===8)if(i.data===Bt)l.push({type:2,index:o});else{let h=-1;for(;(h=i.data.indexOf(A,h+1))!==-1;)l.push({type:7,index:o}),h+=A.length-1}o++}}static createElement(t,e){let s=O.createElement("template");return s.innerHTML=t,s}};function P(r,t,e=r,s){if(t===M)return t;let i=s!==void 0?e._$Co?.[s]:e._$Cl,o=B(t)?void 0:t._$litDirective$;return i?.constructor!==o&&(i?._$AO?.(!1),o===void 0?i=void 0:(i=new o(r),i._$AT(r,e,s)),s!==void 0?(e._$Co??=[])[s]=i:e._$Cl=i),i!==void 0&&(t=P(r,i._$AS(r,t.values),i,s)),t}var vt=class{constructor(t,e){this._$AV=[],this._$AN=void 0,this._$AD=t,this._$AM=e}get parentNode(){return this._$AM.parentNode}get _$AU(){return this._$AM._$AU}u(t){let{el:{content:e},parts:s}=this._$AD,i=(t?.creationScope??O).importNode(e,!0);C.currentNode=i;let o=C.nextNode(),n=0,c=0,l=s[0];for(;l!==void 0;){if(n===l.index){let d;l.type===2?d=new W(o,o.nextSibling,this,t):l.type===1?d=new l.ctor(o,l.name,l.strings,this,t):l.type===6&&(d=new gt(o,this,t)),this._$AV.push(d),l=s[++c]}n!==l?.index&&(o=C.nextNode(),n++)}return C.currentNode=O,i}p(t){let e=0;for(let s of this._$AV)s!==void 0&&(s.strings!==void 0?(s._$AI(t,s,e),e+=s.strings.length-2):s._$AI(t[e])),e++}},W=class r{get _$AU(){return this._$AM?._$AU??this._$Cv}constructor(t,e,s,i){this.type=2,this._$AH=f,this._$AN=void 0,this._$AA=t,this._$AB=e,this._$AM=s,this.options=i,this._$Cv=i?.isConnected??!0}get parentNode(){let t=this._$AA.parentNode,e=this._$AM;return e!==void 0&&t?.nodeType===11&&(t=e.parentNode),t}get startNode(){return this._$AA}get endNode(){return this._$AB}_$AI(t,e=this){t=P(this,t,e),B(t)?t===f||t==null||t===""?(this._$AH!==f&&this._$AR(),this._$AH=f):t!==this._$AH&&t!==M&&this._(t):t._$litType$!==void 0?this.$(t):t.nodeType!==void 0?this.T(t):fe(t)?this.k(t):this._(t)}O(t){return this._$AA.parentNode.insertBefore(t,this._$AB)}T(t){this._$AH!==t&&(this._$AR(),this._$AH=this.O(t))}_(t){this._$AH!==f&&B(this._$AH)?this._$AA.nextSibling.data=t:this.T(O.createTextNode(t)),this._$AH=t}$(t){let{values:e,_$litType$:s}=t,i=typeof s=="number"?this._$AC(t):(s.el===void 0&&(s.el=j.createElement(Wt(s.h,s.h[0]),this.options)),s);if(this._$AH?._$AD===i)this._$AH.p(e);else{let o=new vt(i,this),n=o.u(this.options);o.p(e),this.T(n),this._$AH=o}}_$AC(t){let e=Dt.get(t.strings);return e===void 0&&Dt.set(t.strings,e=new j(t)),e}k(t){xt(this._$AH)||(this._$AH=[],this._$AR());let e=this._$AH,s,i=0;for(let o of t)i===e.length?e.push(s=new r(this.O(I()),this.O(I()),this,this.options)):s=e[i],s._$AI(o),i++;i<e.length&&(this._$AR(s&&s._$AB.nextSibling,i),e.length=i)}_$AR(t=this._$AA.nextSibling,e){for(this._$AP?.(!1,!0,e);t!==this._$AB;){let s=Lt(t).nextSibling;Lt(t).remove(),t=s}}setConnected(t){this._$AM===void 0&&(this._$Cv=t,this._$AP?.(t))}},U=class{get tagName(){return this.element.tagName}get _$AU(){return this._$AM._$AU}constructor(t,e,s,i,o){this.type=1,this._$AH=f,this._$AN=void 0,this.element=t,this.name=e,this._$AM=i,this.options=o,s.length>2||s[0]!==""||s[1]!==""?(this._$AH=Array(s.length-1).fill(new String),this.strings=s):this._$AH=f}_$AI(t,e=this,s,i){let o=this.strings,n=!1;if(o===void 0)t=P(this,t,e,0),n=!B(t)||t!==this._$AH&&t!==M,n&&(this._$AH=t);else{let c=t,l,d;for(t=o[0],l=0;l<o.length-1;l++)d=P(this,c[s+l],e,l),d===M&&(d=this._$AH[l]),n||=!B(d)||d!==this._$AH[l],d===f?t=f:t!==f&&(t+=(d??"")+o[l+1]),this._$AH[l]=d}n&&!i&&this.j(t)}j(t){t===f?this.element.removeAttribute(this.name):this.element.setAttribute(this.name,t??"")}},$t=class extends U{constructor(){super(...arguments),this.type=3}j(t){this.element[this.name]=t===f?void 0:t}},bt=class extends U{constructor(){super(...arguments),this.type=4}j(t){this.element.toggleAttribute(this.name,!!t&&t!==f)}},_t=class extends U{constructor(t,e,s,i,o){super(t,e,s,i,o),this.type=5}_$AI(t,e=this){if((t=P(this,t,e,0)??f)===M)return;let s=this._$AH,i=t===f&&s!==f||t.capture!==s.capture||t.once!==s.once||t.passive!==s.passive,o=t!==f&&(s===f||i);i&&this.element.removeEventListener(this.name,this,s),o&&this.element.addEventListener(this.name,this,t),this._$AH=t}handleEvent(t){typeof this._$AH=="function"?this._$AH.call(this.options?.host??this.element,t):this._$AH.handleEvent(t)}},gt=class{constructor(t,e,s){this.element=t,this.type=6,this._$AN=void 0,this._$AM=e,this.options=s}get _$AU(){return this._$AM._$AU}_$AI(t){P(this,t)}};var $e=yt.litHtmlPolyfillSupport;$e?.(j,W),(yt.litHtmlVersions??=[]).push("3.3.3");var Kt=(r,t,e)=>{let s=e?.renderBefore??t,i=s._$litPart$;if(i===void 0){let o=e?.renderBefore??null;s._$litPart$=i=new W(t.insertBefore(I(),o),o,void 0,e??{})}return i._$AI(r),i};var kt=globalThis,v=class extends x{constructor(){super(...arguments),this.renderOptions={host:this},this._$Do=void 0}createRenderRoot(){let t=super.createRenderRoot();return this.renderOptions.renderBefore??=t.firstChild,t}update(t){let e=this.render();this.hasUpdated||(this.renderOptions.isConnected=this.isConnected),super.update(t),this._$Do=Kt(e,this.renderRoot,this.renderOptions)}connectedCallback(){super.connectedCallback(),this._$Do?.setConnected(!0)}disconnectedCallback(){super.disconnectedCallback(),this._$Do?.setConnected(!1)}render(){return M}};v._$litElement$=!0,v.finalized=!0,kt.litElementHydrateSupport?.({LitElement:v});var be=kt.litElementPolyfillSupport;be?.({LitElement:v});(kt.litElementVersions??=[]).push("4.2.2");var rt=new Set,ot,K,qt;function q(r,t){return rt.add(t),ot&&t(ot),(!K||qt!==r.connection)&&(qt=r.connection,K=r.connection.subscribeMessage(e=>{ot=e;for(let s of rt)s(e)},{type:"totem/devices/subscribe"})),()=>{if(rt.delete(t),!rt.size&&K){let e=K;K=void 0,ot=void 0,e.then(s=>s()).catch(()=>{})}}}var _=$`
  :host {
    color: var(--primary-text-color);
    font-family: var(--paper-font-body1_-_font-family, var(--ha-font-family-body, Roboto, sans-serif));
  }
  ha-card {
    display: block;
    background: var(--ha-card-background, var(--card-background-color, #fff));
    border-radius: var(--ha-card-border-radius, 12px);
    border: var(--ha-card-border-width, 1px) solid var(--ha-card-border-color, var(--divider-color, #e0e0e0));
    box-shadow: var(--ha-card-box-shadow, none);
    color: var(--primary-text-color);
  }
  .muted { color: var(--secondary-text-color); }
  .chip {
    display: inline-block;
    padding: 1px 8px;
    border-radius: 10px;
    font-size: 12px;
    line-height: 18px;
    background: var(--secondary-background-color);
    color: var(--primary-text-color);
    white-space: nowrap;
  }
  .chip.warn { background: var(--warning-color, #ffa600); color: var(--text-primary-color, #fff); }
  .chip.bad { background: var(--error-color, #db4437); color: var(--text-primary-color, #fff); }
  .chip.ok { background: var(--success-color, #43a047); color: var(--text-primary-color, #fff); }
  .dot { display: inline-block; width: 8px; height: 8px; border-radius: 50%; margin-right: 6px; background: var(--disabled-text-color, #bdbdbd); }
  .dot.on { background: var(--success-color, #43a047); }
  button.btn {
    font: inherit;
    cursor: pointer;
    border: 1px solid var(--primary-color);
    color: var(--primary-color);
    background: transparent;
    border-radius: 18px;
    padding: 4px 14px;
  }
  button.btn.primary { background: var(--primary-color); color: var(--text-primary-color, #fff); }
  button.btn.danger { border-color: var(--error-color, #db4437); background: var(--error-color, #db4437); color: var(--text-primary-color, #fff); }
  button.btn:disabled { opacity: 0.5; cursor: default; }
  input, select {
    font: inherit;
    color: var(--primary-text-color);
    background: var(--input-fill-color, var(--secondary-background-color));
    border: 1px solid var(--input-idle-line-color, var(--divider-color));
    border-radius: 6px;
    padding: 5px 8px;
  }
  svg.spark polyline, svg.spark line { fill: none; stroke: var(--primary-color); stroke-width: 1.5; }
  svg.chart { width: 100%; height: auto; display: block; }
  svg.chart .grid { stroke: var(--divider-color); stroke-width: 1; }
  svg.chart .axis { fill: var(--secondary-text-color); font-size: 11px; }
  svg.chart .tx { fill: none; stroke: var(--primary-color); stroke-width: 2; }
  svg.chart .rx { fill: none; stroke: var(--accent-color, #ff9800); stroke-width: 2; }
  svg.chart .tx-area { fill: var(--primary-color); opacity: 0.12; }
  svg.chart .rx-area { fill: var(--accent-color, #ff9800); opacity: 0.12; }
  .legend-tx { color: var(--primary-color); }
  .legend-rx { color: var(--accent-color, #ff9800); }
`;var Vt=["B","kB","MB","GB","TB"];function g(r){if(r==null||Number.isNaN(r))return"—";let t=Number(r),e=0;for(;t>=1e3&&e<Vt.length-1;)t/=1e3,e+=1;if(e===0)return`${Math.round(t)} B`;let s=t>=100?0:t>=10?1:2;return`${t.toFixed(s)} ${Vt[e]}`}function At(r){if(r==null)return"—";let t=r*1e3;return t<1e3?`${Math.round(t)} bit/s`:t<1e6?`${(t/1e3).toFixed(t<1e4?2:1)} kbit/s`:`${(t/1e6).toFixed(t<1e7?2:1)} Mbit/s`}function V(r,t=Date.now()/1e3){if(r==null)return"never";let e=Math.max(0,t-r);return e<60?"just now":e<3600?`${Math.floor(e/60)} min ago`:e<86400?`${Math.floor(e/3600)} h ago`:`${Math.floor(e/86400)} d ago`}function T(r){return r==null?"—":new Date(r*1e3).toLocaleString([],{month:"short",day:"numeric",hour:"2-digit",minute:"2-digit"})}function at(r){return r<3600?`${Math.round(r/60)} min`:r<86400?`${Math.round(r/3600)} h`:`${Math.round(r/86400)} d`}var R={router:"mdi:router-network",access_point:"mdi:access-point",laptop:"mdi:laptop",desktop:"mdi:desktop-tower-monitor",phone:"mdi:cellphone",tablet:"mdi:tablet",tv:"mdi:television",media_player:"mdi:cast",smart_speaker:"mdi:speaker",camera:"mdi:cctv",printer:"mdi:printer",nas:"mdi:nas",game_console:"mdi:controller",smart_plug:"mdi:power-socket-eu",light:"mdi:lightbulb",hub:"mdi:hub",sensor:"mdi:motion-sensor",iot:"mdi:chip",unknown:"mdi:help-network"};function S(r){return(r||"unknown").replace(/_/g," ")}function z(r){return(r||"").replace(/_/g," ")}var Y={info:"var(--info-color, #039be5)",warning:"var(--warning-color, #ffa600)",critical:"var(--error-color, #db4437)"};function Yt(r,t=80,e=20){if(!r||r.length<2)return L`<svg class="spark" width=${t} height=${e}><line x1="0" y1=${e-1} x2=${t} y2=${e-1} /></svg>`;let s=Math.max(...r,1),i=t/(r.length-1),o=r.map((n,c)=>`${(c*i).toFixed(1)},${(e-1-n/s*(e-2)).toFixed(1)}`);return L`<svg class="spark" width=${t} height=${e} viewBox="0 0 ${t} ${e}"><polyline points=${o.join(" ")} /></svg>`}function Gt(r,t,e,s){let i=Math.max(1,Math.ceil((e-t)/s)),o=new Array(i).fill(0),n=new Array(i).fill(0);for(let[c,l,d]of r||[]){let p=Math.floor((c-t)/s);p>=0&&p<i&&(o[p]+=l,n[p]+=d)}return{tx:o,rx:n}}function Jt({tx:r,rx:t},e,s,i,o=640,n=180){let c={l:56,r:8,t:8,b:22},l=o-c.l-c.r,d=n-c.t-c.b,p=r.length,h=Math.max(...r,...t,1),b=u=>c.l+(p<=1?0:u/(p-1)*l),y=u=>c.t+d-u/h*d,k=u=>u.map((ht,ie)=>`${b(ie).toFixed(1)},${y(ht).toFixed(1)}`).join(" "),Et=u=>`${c.l},${c.t+d} ${k(u)} ${b(p-1).toFixed(1)},${c.t+d}`,ee=(h>=10?[0,.5,1]:[0,1]).map(u=>({v:h*u,y:y(h*u)})),se=[0,Math.floor((p-1)/2),p-1].map((u,ht)=>({x:b(u),anchor:["start","middle","end"][ht],text:new Date((e+u*s)*1e3).toLocaleString([],s>=3600?{weekday:"short",hour:"2-digit"}:{hour:"2-digit",minute:"2-digit"})}));return L`<svg class="chart" viewBox="0 0 ${o} ${n}" role="img" aria-label="traffic chart">
    ${ee.map(u=>L`<line class="grid" x1=${c.l} x2=${o-c.r} y1=${u.y} y2=${u.y} /><text class="axis" x=${c.l-4} y=${u.y+4} text-anchor="end">${i(u.v)}</text>`)}
    ${se.map(u=>L`<text class="axis" x=${u.x} y=${n-6} text-anchor=${u.anchor}>${u.text}</text>`)}
    <polygon class="rx-area" points=${Et(t)} />
    <polyline class="rx" points=${k(t)} />
    <polygon class="tx-area" points=${Et(r)} />
    <polyline class="tx" points=${k(r)} />
  </svg>`}var w={name:{label:"Name",value:r=>(r.name||"").toLowerCase()},vendor:{label:"Vendor",value:r=>(r.vendor||"").toLowerCase()},type:{label:"Type",value:r=>r.type},ips:{label:"IP",value:r=>_e(r.ips[0])},seen:{label:"Online",value:r=>(r.online?2e12:0)+(r.last_seen||0)},rate:{label:"Up / down",value:r=>(r.up_kbps||0)+(r.down_kbps||0)},traffic:{label:"Traffic",value:r=>r.tx_bytes+r.rx_bytes},alerts:{label:"Alerts 24 h",value:r=>r.alerts_24h*1e3+r.open_alerts},access:{label:"Access",value:r=>r.pending_approval?2:r.blocked?1:0}},Zt=Object.keys(w);function _e(r){return r?r.includes(".")?`0${r.split(".").map(t=>t.padStart(3,"0")).join(".")}`:`1${r}`:"~"}function ge(r,t){let e=(t.search||"").trim().toLowerCase();return r.filter(s=>t.type&&s.type!==t.type||t.online==="online"&&!s.online||t.online==="offline"&&s.online||t.alerts&&!s.alerts_24h||t.blocked&&!s.blocked||t.waiting&&!s.pending_approval?!1:e?[s.name,s.vendor,s.mac,s.type,...s.ips].some(i=>i&&String(i).toLowerCase().includes(e)):!0)}function ye(r,t,e){let s=w[t]||w.name,i=[...r].sort((o,n)=>{let c=s.value(o),l=s.value(n);return(typeof c=="string"?c.localeCompare(l,void 0,{numeric:!0}):c<l?-1:c>l?1:0)||(o.name||"").localeCompare(n.name||"",void 0,{numeric:!0})});return e?i.reverse():i}var G=class extends v{constructor(){super(),this.devices=[],this.columns=Zt,this.filters={},this.showFilters=!0,this.sortKey="traffic",this.sortDesc=!0}_sort(t){this.sortKey===t?this.sortDesc=!this.sortDesc:(this.sortKey=t,this.sortDesc=["rate","traffic","alerts","seen","access"].includes(t))}_setFilter(t,e){this.filters={...this.filters,[t]:e},this.dispatchEvent(new CustomEvent("filters-changed",{detail:this.filters}))}_open(t){this.dispatchEvent(new CustomEvent("device-selected",{detail:t,bubbles:!0,composed:!0}))}_cell(t,e){switch(t){case"name":return a`<td class="name"><span class="dot ${e.online?"on":""}"></span>${e.name}${e.new&&!this.compact?a` <span class="chip">new</span>`:""}</td>`;case"vendor":return a`<td class="hide-narrow" title=${e.manufacturer||""}>${e.vendor||a`<span class="muted">—</span>`}</td>`;case"type":return a`<td title=${e.type_reason||"no evidence yet"}><ha-icon .icon=${R[e.type]||R.unknown}></ha-icon><span class="hide-narrow"> ${S(e.type)}</span></td>`;case"ips":return a`<td class="hide-narrow mono">${e.ips.length?e.ips[0]:"—"}${e.ips.length>1?a` <span class="muted">+${e.ips.length-1}</span>`:""}</td>`;case"seen":return a`<td>${e.online?a`<span class="chip ok">online</span>`:a`<span class="muted">${V(e.last_seen)}</span>`}</td>`;case"rate":return a`<td class="num"><div class="rate"><span>↑ ${At(e.up_kbps)}<br />↓ ${At(e.down_kbps)}</span>${this.compact?"":Yt(e.spark,64,22)}</div></td>`;case"traffic":return a`<td class="num" title="sent ${g(e.tx_bytes)}, received ${g(e.rx_bytes)}">${g(e.tx_bytes+e.rx_bytes)}</td>`;case"alerts":return a`<td class="num">${e.alerts_24h?a`<span class="chip ${e.open_alerts?"warn":""}">${e.alerts_24h}</span>`:a`<span class="muted">0</span>`}</td>`;case"access":return e.pending_approval?a`<td><span class="chip warn">waiting</span></td>`:a`<td>${e.blocked?a`<span class="chip bad">blocked</span>`:a`<span class="muted">allowed</span>`}</td>`;default:return a`<td></td>`}}render(){let t=(this.columns||Zt).filter(n=>w[n]),e=[...new Set(this.devices.map(n=>n.type))].sort(),s=ye(ge(this.devices,this.filters),this.sortKey,this.sortDesc),i=this.limit?s.slice(0,this.limit):s,o=this.filters;return a`
      ${this.showFilters?a`<div class="filters">
            <input type="search" placeholder="Search name, vendor, MAC, IP" .value=${o.search||""}
              @input=${n=>this._setFilter("search",n.target.value)} />
            <select aria-label="type" @change=${n=>this._setFilter("type",n.target.value)}>
              <option value="">All types</option>
              ${e.map(n=>a`<option value=${n} ?selected=${o.type===n}>${S(n)}</option>`)}
            </select>
            <select aria-label="presence" @change=${n=>this._setFilter("online",n.target.value)}>
              <option value="">Online and offline</option>
              <option value="online" ?selected=${o.online==="online"}>Online</option>
              <option value="offline" ?selected=${o.online==="offline"}>Offline</option>
            </select>
            <label><input type="checkbox" .checked=${!!o.alerts} @change=${n=>this._setFilter("alerts",n.target.checked)} /> With alerts</label>
            <label><input type="checkbox" .checked=${!!o.blocked} @change=${n=>this._setFilter("blocked",n.target.checked)} /> Blocked</label>
            <label><input type="checkbox" .checked=${!!o.waiting} @change=${n=>this._setFilter("waiting",n.target.checked)} /> Waiting for approval</label>
          </div>`:""}
      <div class="scroll">
        <table>
          <thead>
            <tr>
              ${t.map(n=>a`<th class="${["rate","traffic","alerts"].includes(n)?"num":""} ${["vendor","ips"].includes(n)?"hide-narrow":""}"
                  data-col=${n} @click=${()=>this._sort(n)} aria-sort=${this.sortKey===n?this.sortDesc?"descending":"ascending":"none"}>
                  ${w[n].label}${this.sortKey===n?this.sortDesc?" ▼":" ▲":""}</th>`)}
            </tr>
          </thead>
          <tbody>
            ${i.map(n=>a`<tr data-mac=${n.mac} @click=${()=>this._open(n)}>${t.map(c=>this._cell(c,n))}</tr>`)}
          </tbody>
        </table>
        ${i.length?"":a`<p class="muted empty">No device matches.</p>`}
      </div>
    `}};m(G,"properties",{devices:{attribute:!1},columns:{attribute:!1},narrow:{type:Boolean,reflect:!0},compact:{type:Boolean,reflect:!0},filters:{attribute:!1},showFilters:{type:Boolean,attribute:"show-filters"},limit:{type:Number},sortKey:{state:!0},sortDesc:{state:!0}}),m(G,"styles",[_,$`
      :host { display: block; }
      .filters { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; padding: 8px 16px; }
      .filters input[type="search"] { flex: 1 1 200px; min-width: 140px; }
      .filters label { display: flex; align-items: center; gap: 4px; white-space: nowrap; }
      .scroll { overflow-x: auto; }
      table { width: 100%; border-collapse: collapse; font-size: 14px; }
      th { text-align: left; font-weight: 500; color: var(--secondary-text-color); cursor: pointer; user-select: none; padding: 8px; border-bottom: 1px solid var(--divider-color); white-space: nowrap; }
      td { padding: 6px 8px; border-bottom: 1px solid var(--divider-color); vertical-align: middle; }
      tbody tr { cursor: pointer; }
      tbody tr:hover { background: var(--secondary-background-color); }
      .num { text-align: right; white-space: nowrap; }
      .name { font-weight: 500; }
      .mono { font-family: var(--code-font-family, monospace); font-size: 13px; }
      .rate { display: flex; gap: 6px; align-items: center; justify-content: flex-end; font-size: 12px; line-height: 15px; }
      ha-icon { --mdc-icon-size: 20px; color: var(--state-icon-color, var(--paper-item-icon-color)); }
      .empty { padding: 16px; }
      :host([narrow]) .hide-narrow, :host([compact]) .hide-narrow { display: none; }
      :host([compact]) td, :host([compact]) th { padding: 4px 6px; }
      :host([compact]) .name { max-width: 140px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
    `]);customElements.get("totem-devices-table")||customElements.define("totem-devices-table",G);var Qt=[[3600,"1 hour"],[8*3600,"8 hours"],[86400,"1 day"],[7*86400,"1 week"],[0,"until unblocked"]],xe=50,we=[3600,8*3600,86400,7*86400],Xt={hour:{span:3600,width:60,label:"1 hour"},hours:{span:6*3600,width:300,label:"6 hours"},days:{span:7*86400,width:3600,label:"7 days"}},J=class extends v{constructor(){super(),this._range="hour",this._blockFor=3600,this._snoozeFor=86400}updated(t){(t.has("mac")||t.has("entryId")||t.has("refresh"))&&this.hass&&this.mac&&this._load(),t.has("hass")&&!t.get("hass")&&this.hass&&this.mac&&!this._data&&this._load()}async _load(){try{let t=await this.hass.callWS({type:"totem/device/get",entry_id:this.entryId,mac:this.mac});this._data=t,this._error=void 0,this.compact||this._loadLog(t.device)}catch(t){this._error=t.message||String(t)}}async _loadLog(t){if(!t.device_id&&!(t.linked_entities||[]).length)return this._log={entries:[]};let e=new Date,s={type:"logbook/get_events",start_time:new Date(e-864e5).toISOString(),end_time:e.toISOString()};t.device_id&&(s.device_ids=[t.device_id]),(t.linked_entities||[]).length&&(s.entity_ids=t.linked_entities);try{let i=await this.hass.callWS(s);this._log={entries:i.slice(-xe).reverse()}}catch(i){this._log={error:i.message||String(i)}}}async _command(t,e={}){this._busy=!0;try{let s=await this.hass.callWS({type:t,entry_id:this.entryId,mac:this.mac,...e});this._error=void 0,s&&s.device?this._data={...this._data,device:s.device}:s&&"device"in s&&([this._data,this._error]=[void 0,"TOTEM forgot this device; if it comes back, it waits for approval again."])}catch(s){this._error=s.message||String(s)}finally{this._busy=!1,this._confirm=void 0}}_askBlock(){let t=this._data.device,e=Qt.find(([s])=>s===this._blockFor)[1];this._confirm={title:`Block ${t.name}?`,text:`${t.name} loses its network access for ${e}. Other devices keep theirs.`,action:"Block",run:()=>this._command("totem/device/block",this._blockFor?{duration:this._blockFor}:{})}}_askUnblock(){let t=this._data.device;this._confirm={title:`Unblock ${t.name}?`,text:`${t.name} gets its network access back now.`,action:"Unblock",run:()=>this._command("totem/device/unblock")}}_setType(t){t&&this._command("totem/device/set_type",{device_type:t})}_askDecide(t){let e=this._data.device,s={approve:[`Approve ${e.name}?`,`${e.name} gets full network access, like every other device.`,"Approve"],keep_blocked:[`Keep ${e.name} blocked?`,`${e.name} stays cut off until you unblock it.`,"Keep blocked"],forget:[`Forget ${e.name}?`,`TOTEM forgets ${e.name}; if it comes back, it waits for approval again.`,"Forget"]},[i,o,n]=s[t];this._confirm={title:i,text:o,action:n,run:()=>this._command("totem/device/approve",{decision:t})}}_approval(t){return t.pending_approval?a`<p><span class="chip bad">waiting for approval</span> <span class="muted">joined after the first inventory; only DHCP and DNS pass</span></p>
      <div class="row">
        <button class="btn primary" id="approve" ?disabled=${this._busy} @click=${()=>this._askDecide("approve")}>Approve</button>
        <button class="btn danger" id="keep-blocked" ?disabled=${this._busy} @click=${()=>this._askDecide("keep_blocked")}>Keep blocked</button>
        <button class="btn" id="forget" ?disabled=${this._busy} @click=${()=>this._askDecide("forget")}>Forget</button>
      </div>`:""}_typeChoice(t){let e=this._data.device_types||[],s=t.type_source==="user";return a`<div class="row">
      <select aria-label="device type" id="type" ?disabled=${this._busy} @change=${i=>this._setType(i.target.value)}>
        <option value="automatic" ?selected=${!s}>Automatic${s?"":` (${S(t.type)})`}</option>
        ${e.map(i=>a`<option value=${i} ?selected=${s&&t.type===i}>${S(i)}</option>`)}
      </select>
      <span class="muted small">${s?"set by you":"from identification"}</span></div>`}_askReset(){let t=this._data.device;this._confirm={title:`Forget what is normal for ${t.name}?`,text:"TOTEM learns this device's normal behaviour again from now on; meanwhile it raises fewer alerts for it.",action:"Reset baseline",run:()=>this._command("totem/device/reset_baseline")}}async _ack(t){try{await this.hass.callWS({type:"totem/alerts/acknowledge",entry_id:t.entry_id,mac:t.mac,kind:t.kind,time:t.time}),this._load()}catch(e){this._error=e.message||String(e)}}_chart(t){let e=Xt[this._range],s=Date.now()/1e3,i=Math.floor((s-e.span)/e.width)*e.width,o=this._range==="days"?t.hours:t.minutes,n=Gt(o,i,s,e.width),c=n.tx.reduce((l,d)=>l+d,0)+n.rx.reduce((l,d)=>l+d,0);return a`
      <div class="head"><h3>Traffic</h3>
        <div class="seg">${Object.entries(Xt).map(([l,d])=>a`<button class="btn ${this._range===l?"primary":""}" @click=${()=>this._range=l}>${d.label}</button>`)}</div>
      </div>
      ${Jt(n,i,e.width,g,640,180)}
      <div class="muted small"><span class="legend-tx">■ sent</span> <span class="legend-rx">■ received</span> · ${g(c)} in ${e.label} · per ${at(e.width)}</div>`}_access(t,e){let s=this._approval(t);return s||(e.enforcing?t.blocked?a`<p><span class="chip bad">blocked</span> ${t.blocked_until?a`until ${T(t.blocked_until)}`:"until unblocked"}</p>
        <button class="btn primary" id="unblock" ?disabled=${this._busy} @click=${this._askUnblock}>Unblock</button>`:a`<p><span class="chip ok">allowed</span> <span class="muted">via ${e.backend}</span></p>
      <div class="row">
        <select aria-label="block for" @change=${i=>this._blockFor=Number(i.target.value)}>
          ${Qt.map(([i,o])=>a`<option value=${i} ?selected=${i===this._blockFor}>${o}</option>`)}
        </select>
        <button class="btn danger" id="block" ?disabled=${this._busy} @click=${this._askBlock}>Block</button>
      </div>`:a`<p class="muted">Blocking is off for ${e.title}: choose a blocking method in TOTEM's options to cut a device off.</p>`)}_alerts(t){let e=t.alerts||[];return a`
      <div class="head"><h3>Alerts</h3>
        <div class="row">
          <select aria-label="snooze for" @change=${s=>this._snoozeFor=Number(s.target.value)}>
            ${we.map(s=>a`<option value=${s} ?selected=${s===this._snoozeFor}>${at(s)}</option>`)}
          </select>
          <button class="btn" ?disabled=${this._busy} @click=${()=>this._command("totem/device/snooze",{duration:this._snoozeFor})}>Snooze all</button>
          <button class="btn" ?disabled=${this._busy} @click=${this._askReset}>Reset baseline</button>
        </div>
      </div>
      ${e.length?a`<ol class="timeline">${e.map(s=>a`<li class=${s.acknowledged?"acked":""}>
            <span class="sev" style="background:${Y[s.severity]||Y.info}"></span>
            <div class="what"><b>${z(s.kind)}</b> <span class="muted">${T(s.seen??s.time)}${s.count>1?` · ×${s.count}`:""}</span><br />${s.message}</div>
            <div class="acts">
              <button class="btn" title="no more ${z(s.kind)} alerts for ${at(this._snoozeFor)}" ?disabled=${this._busy}
                @click=${()=>this._command("totem/device/snooze",{kind:s.kind,duration:this._snoozeFor})}>Snooze</button>
              ${s.acknowledged?a`<span class="muted">seen</span>`:a`<button class="btn" @click=${()=>this._ack(s)}>Acknowledge</button>`}
            </div></li>`)}</ol>`:a`<p class="muted">No alert for this device.</p>`}`}_flows(t){let e=t.flows||[];return e.length?a`<div class="scroll"><table class="flows">
      <thead><tr><th>Peer</th><th>Protocol</th><th class="num">Sent</th><th class="num">Received</th><th class="num">Packets</th><th>Last seen</th></tr></thead>
      <tbody>${e.map(s=>a`<tr>
        <td>${s.domain?a`<b>${s.domain}</b><br /><span class="muted small">${s.peer}</span>`:s.peer}${s.local?a` <span class="chip">home</span>`:""}</td>
        <td>${s.app||s.proto}<br /><span class="muted small">${s.proto} ${s.port||""}</span></td>
        <td class="num">${g(s.up)}</td><td class="num">${g(s.down)}</td><td class="num">${s.packets}</td>
        <td>${s.live?a`<span class="chip ok">active</span>`:V(s.seen??s.last)}</td></tr>`)}</tbody></table></div>`:a`<p class="muted">No conversation seen yet.</p>`}_peers(t){let e=t.peers||[],s=Math.max(1,...e.map(i=>i.up+i.down));return a`${e.length?e.map(i=>a`<div class="bar peer"><span title=${i.peer}>${i.domain||i.peer}</span><div><i style="width:${100*(i.up+i.down)/s}%"></i></div><span class="muted">${g(i.up+i.down)}</span></div>`):a`<p class="muted">No address seen yet.</p>`}
      ${t.domains.length?a`<div class="muted small">Domains asked for${t.domains.length>8?` (8 of ${t.domains.length})`:""}:</div>
        <ul class="names small">${t.domains.slice(0,8).map(i=>a`<li title=${i}>${i}</li>`)}</ul>`:""}
      <div class="muted small">${t.remote_hosts} remote hosts</div>`}_activity(t){let e=this._log,s=t.device_id?a`<a class="small" href="/config/devices/device/${t.device_id}">Entities</a>`:"",i=a`<div class="head"><h3>Activity (last 24 h)</h3>${s}</div>`;return e?e.error?a`${i}<p class="muted">The logbook is not available: ${e.error}</p>`:e.entries.length?a`${i}<ol class="log">${e.entries.map(o=>a`<li>
        <span class="muted small">${T(o.when)}</span>
        <span><b>${o.name||o.entity_id||""}</b> ${o.message||(o.state!=null?`changed to ${o.state}`:"")}</span></li>`)}</ol>`:a`${i}<p class="muted">Nothing logged in the last day.</p>`:a`${i}<p class="muted">Loading…</p>`}render(){if(this._error&&!this._data)return a`<ha-card><div class="pad error">${this._error}</div></ha-card>`;if(!this._data)return a`<ha-card><div class="pad muted">Loading…</div></ha-card>`;let{device:t,entry:e}=this._data,s=Object.entries(t.protocols||{}).sort((l,d)=>d[1]-l[1]),i=s.reduce((l,[,d])=>l+d,0)||1,o=a`<div class="title">
        <ha-icon .icon=${R[t.type]||R.unknown}></ha-icon>
        <div><h2>${t.name}</h2>
          <div class="muted">${t.vendor||"unknown vendor"} · <span title=${t.type_source==="user"?"set by you":t.type_reason||""}>${S(t.type)}</span> · ${t.ips.join(", ")||"no IP"} · ${t.mac}</div>
          <div>${t.online?a`<span class="chip ok">online</span>`:a`<span class="chip">seen ${V(t.last_seen)}</span>`}
            <span class="muted">↑ ${g(t.tx_bytes)} ↓ ${g(t.rx_bytes)} · ${t.active_flows} active flows · ${t.remote_hosts} remote hosts</span></div>
        </div></div>`,n=this._error?a`<div class="error pad">${this._error}</div>`:"",c=this._confirm?a`<div class="scrim" @click=${l=>l.target===l.currentTarget&&(this._confirm=void 0)}>
          <div class="dialog" role="dialog" aria-modal="true"><h3>${this._confirm.title}</h3><p>${this._confirm.text}</p>
            <div class="row end"><button class="btn" @click=${()=>this._confirm=void 0}>Cancel</button>
            <button class="btn danger" id="confirm" ?disabled=${this._busy} @click=${()=>this._confirm.run()}>${this._confirm.action}</button></div>
          </div></div>`:"";return this.compact?a`<ha-card><div class="pad">${o}${n}${this._chart(t)}
        <div class="split"><div>${this._alerts(t)}</div><div><h3>Network access</h3>${this._access(t,e)}</div></div></div>${c}</ha-card>`:a`
      ${n}
      <div class="grid">
        <ha-card class="wide"><div class="pad">${o}</div></ha-card>
        <ha-card class="wide"><div class="pad">${this._chart(t)}</div></ha-card>
        <ha-card><div class="pad"><h3>Network access</h3>${this._access(t,e)}</div></ha-card>
        <ha-card><div class="pad"><h3>Identification</h3>
          <p><b>${S(t.type)}</b>: ${t.type_source==="user"?"set by you":t.type_reason||a`<span class="muted">no evidence yet</span>`}</p>
          ${this._typeChoice(t)}
          ${Object.entries(t.name_sources||{}).map(([l,d])=>a`<div class="muted small">${l}: ${d}</div>`)}
          <div class="muted small">Vendor (OUI): ${t.manufacturer||"unknown"} · MACs: ${t.macs.join(", ")}</div>
        </div></ha-card>
        <ha-card><div class="pad"><h3>Protocols</h3>
          ${s.length?s.slice(0,12).map(([l,d])=>a`<div class="bar"><span>${l}</span><div><i style="width:${100*d/i}%"></i></div><span class="muted">${d}</span></div>`):a`<p class="muted">None seen yet.</p>`}
        </div></ha-card>
        <ha-card><div class="pad"><h3>Top destinations</h3>${this._peers(t)}</div></ha-card>
        <ha-card class="wide"><div class="pad"><h3>Flows</h3>${this._flows(t)}</div></ha-card>
        <ha-card class="wide"><div class="pad">${this._alerts(t)}</div></ha-card>
        <ha-card class="wide"><div class="pad">${this._activity(t)}</div></ha-card>
      </div>${c}`}};m(J,"properties",{hass:{attribute:!1},entryId:{attribute:"entry-id"},mac:{},refresh:{attribute:!1},narrow:{type:Boolean,reflect:!0},compact:{type:Boolean,reflect:!0},_data:{state:!0},_error:{state:!0},_range:{state:!0},_confirm:{state:!0},_busy:{state:!0},_blockFor:{state:!0},_snoozeFor:{state:!0},_log:{state:!0}}),m(J,"styles",[_,$`
      :host { display: block; }
      .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 12px; }
      .wide { grid-column: 1 / -1; }
      .pad { padding: 12px 16px; }
      h2 { margin: 0; font-size: 20px; font-weight: 500; }
      h3 { margin: 4px 0 8px; font-size: 16px; font-weight: 500; }
      .title { display: flex; gap: 12px; align-items: flex-start; }
      .title ha-icon { --mdc-icon-size: 40px; color: var(--state-icon-color, var(--primary-color)); }
      .title > div > div { margin-top: 4px; }
      .head { display: flex; justify-content: space-between; align-items: center; flex-wrap: wrap; gap: 8px; }
      .row { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
      .row.end { justify-content: flex-end; }
      .seg { display: flex; gap: 4px; }
      .small { font-size: 12px; }
      .error { color: var(--error-color, #db4437); }
      .bar { display: grid; grid-template-columns: 90px 1fr 50px; gap: 8px; align-items: center; font-size: 13px; margin: 3px 0; }
      .bar div { background: var(--secondary-background-color); height: 8px; border-radius: 4px; overflow: hidden; }
      .bar i { display: block; height: 100%; background: var(--primary-color); }
      .bar.peer { grid-template-columns: minmax(90px, 40%) 1fr 64px; }
      .bar.peer span:first-child { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
      .scroll { overflow-x: auto; }
      .names { margin: 2px 0 6px; padding-left: 16px; color: var(--secondary-text-color); }
      .names li { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
      table.flows { width: 100%; border-collapse: collapse; font-size: 13px; }
      table.flows th { text-align: left; font-weight: 500; color: var(--secondary-text-color); border-bottom: 1px solid var(--divider-color); padding: 4px 6px; }
      table.flows td { padding: 5px 6px; border-bottom: 1px solid var(--divider-color); vertical-align: top; word-break: break-all; }
      table.flows .num { text-align: right; white-space: nowrap; }
      .log { list-style: none; margin: 0; padding: 0; font-size: 13px; max-height: 320px; overflow-y: auto; }
      .log li { display: grid; grid-template-columns: 110px 1fr; gap: 8px; padding: 4px 0; border-bottom: 1px solid var(--divider-color); }
      .timeline { list-style: none; margin: 0; padding: 0; }
      .timeline li { display: flex; gap: 10px; padding: 8px 0; border-bottom: 1px solid var(--divider-color); align-items: flex-start; }
      .timeline li.acked { opacity: 0.65; }
      .sev { width: 4px; align-self: stretch; border-radius: 2px; }
      .what { flex: 1; font-size: 14px; }
      .acts { display: flex; gap: 6px; align-items: center; }
      .split { display: grid; grid-template-columns: 2fr 1fr; gap: 16px; }
      .scrim { position: fixed; inset: 0; background: rgba(0, 0, 0, 0.45); display: flex; align-items: center; justify-content: center; z-index: 10; }
      .dialog { background: var(--card-background-color, #fff); color: var(--primary-text-color); border-radius: 12px; padding: 16px 20px; max-width: 420px; width: calc(100% - 48px); box-shadow: 0 8px 24px rgba(0, 0, 0, 0.3); }
      :host([narrow]) .timeline li { flex-wrap: wrap; }
      :host([narrow]) .split { grid-template-columns: 1fr; }
      :host([narrow]) .log li { grid-template-columns: 1fr; gap: 0; }
    `]);customElements.get("totem-device-view")||customElements.define("totem-device-view",J);var Z=class extends v{constructor(){super(),this._kind=this._severity=this._device=""}updated(t){(t.has("refresh")||t.has("hass")&&!this._alerts)&&this.hass&&this._load()}async _load(){try{this._alerts=(await this.hass.callWS({type:"totem/alerts/list"})).alerts}catch(t){this._error=t.message||String(t)}}async _ack(t){try{await this.hass.callWS({type:"totem/alerts/acknowledge",entry_id:t.entry_id,mac:t.mac,kind:t.kind,time:t.time}),this._load()}catch(e){this._error=e.message||String(e)}}render(){let t=this._alerts||[],e=[...new Set(t.map(o=>o.kind))].sort(),s=[...new Set(t.map(o=>o.device_name||o.mac))].sort(),i=t.filter(o=>(!this._kind||o.kind===this._kind)&&(!this._severity||o.severity===this._severity)&&(!this._device||(o.device_name||o.mac)===this._device));return a`<ha-card>
      <div class="filters">
        <select aria-label="kind" @change=${o=>this._kind=o.target.value}><option value="">All kinds</option>${e.map(o=>a`<option value=${o}>${z(o)}</option>`)}</select>
        <select aria-label="severity" @change=${o=>this._severity=o.target.value}><option value="">All severities</option>${["critical","warning","info"].map(o=>a`<option value=${o}>${o}</option>`)}</select>
        <select aria-label="device" @change=${o=>this._device=o.target.value}><option value="">All devices</option>${s.map(o=>a`<option value=${o}>${o}</option>`)}</select>
        <span class="muted">${i.length} of ${t.length}</span>
      </div>
      ${this._error?a`<div class="error">${this._error}</div>`:""}
      <table>
        <thead><tr><th>When</th><th>Device</th><th>Kind</th><th>Severity</th><th>What</th><th></th></tr></thead>
        <tbody>${i.map(o=>a`<tr class=${o.acknowledged?"acked":""}>
          <td class="nowrap">${T(o.seen??o.time)}</td>
          <td><a href="#" @click=${n=>{n.preventDefault(),this.dispatchEvent(new CustomEvent("device-selected",{detail:{entry_id:o.entry_id,mac:o.device},bubbles:!0,composed:!0}))}}>${o.device_name||o.mac}</a></td>
          <td>${z(o.kind)}${o.count>1?a` <span class="muted">×${o.count}</span>`:""}</td>
          <td><span class="sev" style="background:${Y[o.severity]}"></span>${o.severity}</td>
          <td>${o.message}</td>
          <td>${o.acknowledged?a`<span class="muted">seen</span>`:a`<button class="btn" @click=${()=>this._ack(o)}>Acknowledge</button>`}</td>
        </tr>`)}</tbody>
      </table>
      ${i.length?"":a`<p class="muted pad">No alert${t.length?" matches":" yet: TOTEM is learning what is normal"}.</p>`}
    </ha-card>`}};m(Z,"properties",{hass:{attribute:!1},refresh:{attribute:!1},_alerts:{state:!0},_kind:{state:!0},_severity:{state:!0},_device:{state:!0},_error:{state:!0}}),m(Z,"styles",[_,$`
      .filters { display: flex; gap: 8px; flex-wrap: wrap; align-items: center; padding: 12px 16px; }
      table { width: 100%; border-collapse: collapse; font-size: 14px; }
      th { text-align: left; font-weight: 500; color: var(--secondary-text-color); padding: 8px; border-bottom: 1px solid var(--divider-color); }
      td { padding: 6px 8px; border-bottom: 1px solid var(--divider-color); vertical-align: top; }
      tr.acked { opacity: 0.65; }
      .nowrap { white-space: nowrap; }
      .sev { display: inline-block; width: 8px; height: 8px; border-radius: 50%; margin-right: 6px; }
      a { color: var(--primary-color); text-decoration: none; }
      .pad { padding: 16px; }
      .error { color: var(--error-color); padding: 0 16px; }
    `]);customElements.get("totem-alerts-view")||customElements.define("totem-alerts-view",Z);var Q=class extends v{constructor(){super();m(this,"_select",e=>{let s=e.detail;s&&s.mac&&this._go(`device/${s.entry_id}/${encodeURIComponent(s.mac)}`)});this._tab="devices",this._filters={}}connectedCallback(){super.connectedCallback(),this._readHash(),this._onHash=()=>this._readHash(),window.addEventListener("hashchange",this._onHash)}disconnectedCallback(){super.disconnectedCallback(),window.removeEventListener("hashchange",this._onHash),this._unsub&&this._unsub(),this._unsub=void 0}updated(e){e.has("hass")&&this.hass&&!this._unsub&&(this._unsub=q(this.hass,s=>{this._table=s,window.__totemPanelUpdates=(window.__totemPanelUpdates||0)+1}))}_readHash(){let[e,s,i]=window.location.hash.replace(/^#/,"").split("/");e==="device"&&s&&i?(this._tab="device",this._selected={entry_id:s,mac:decodeURIComponent(i)}):(this._tab=e==="alerts"?"alerts":"devices",this._selected=void 0)}_go(e){window.location.hash=e}render(){let e=this._table,s=e&&e.summary;return a`
      <div class="toolbar">
        <ha-menu-button .hass=${this.hass} .narrow=${this.narrow}></ha-menu-button>
        <div class="main-title">Network</div>
        <nav>
          <button class="tab ${this._tab==="devices"?"on":""}" @click=${()=>this._go("devices")}>Devices</button>
          <button class="tab ${this._tab==="alerts"?"on":""}" @click=${()=>this._go("alerts")}>Alerts${s&&s.open_alerts?a` <span class="badge">${s.open_alerts}</span>`:""}</button>
        </nav>
      </div>
      <div class="content">
        ${e?e.entries.length?this._page(e):a`<ha-card><p class="pad">No TOTEM entry is loaded. Add TOTEM under Settings → Devices &amp; services.</p></ha-card>`:a`<p class="muted">Connecting…</p>`}
      </div>`}_page(e){if(this._tab==="device"&&this._selected)return a`<button class="btn back" @click=${()=>this._go("devices")}>← All devices</button>
        <totem-device-view .hass=${this.hass} .entryId=${this._selected.entry_id} .mac=${this._selected.mac}
          .refresh=${e} ?narrow=${this.narrow}></totem-device-view>`;if(this._tab==="alerts")return a`<totem-alerts-view .hass=${this.hass} .refresh=${e} @device-selected=${this._select}></totem-alerts-view>`;let s=e.summary;return a`
      <div class="summary" id="summary">
        <b>${s.online}</b> of ${s.devices} devices online · <b>${s.new_this_week}</b> new this week ·
        <b>${s.open_alerts}</b> open alerts${s.blocked?a` · <b>${s.blocked}</b> blocked`:""}${s.waiting?a` · <b>${s.waiting}</b> waiting for approval`:""}
        <span class="muted"> · ${e.entries.map(i=>i.title).join(", ")}</span>
      </div>
      <ha-card>
        <totem-devices-table .devices=${e.devices} .filters=${this._filters} ?narrow=${this.narrow}
          @filters-changed=${i=>this._filters=i.detail} @device-selected=${this._select}></totem-devices-table>
      </ha-card>`}};m(Q,"properties",{hass:{attribute:!1},narrow:{type:Boolean,reflect:!0},route:{attribute:!1},panel:{attribute:!1},_table:{state:!0},_tab:{state:!0},_selected:{state:!0},_filters:{state:!0}}),m(Q,"styles",[_,$`
      :host { display: block; min-height: 100vh; background: var(--primary-background-color); }
      .toolbar { display: flex; align-items: center; height: var(--header-height, 56px); padding: 0 12px; gap: 8px;
        background: var(--app-header-background-color, var(--primary-color)); color: var(--app-header-text-color, var(--text-primary-color, #fff));
        border-bottom: var(--app-header-border-bottom, none); position: sticky; top: 0; z-index: 2; }
      .main-title { font-size: 20px; flex: 1; }
      nav { display: flex; gap: 4px; }
      .tab { font: inherit; background: transparent; border: 0; color: inherit; padding: 8px 12px; cursor: pointer; border-bottom: 2px solid transparent; opacity: 0.8; }
      .tab.on { border-bottom-color: currentColor; opacity: 1; }
      .badge { background: var(--error-color, #db4437); color: #fff; border-radius: 9px; padding: 0 6px; font-size: 12px; }
      .content { padding: 16px; max-width: 1400px; margin: 0 auto; }
      :host([narrow]) .content { padding: 8px; }
      .summary { margin: 0 4px 12px; }
      .back { margin-bottom: 12px; }
      .pad { padding: 16px; }
    `]);customElements.get("totem-panel")||customElements.define("totem-panel",Q);var te=["name","type","seen","rate","traffic","alerts","access"];function ke(r){history.pushState(null,"",r),window.dispatchEvent(new CustomEvent("location-changed",{detail:{replace:!1}}))}var X=class extends v{connectedCallback(){super.connectedCallback(),this.hass&&!this._unsub&&this._subscribe()}disconnectedCallback(){super.disconnectedCallback(),this._unsub&&this._unsub(),this._unsub=void 0}updated(t){t.has("hass")&&this.hass&&!this._unsub&&this.isConnected&&this._subscribe()}_subscribe(){this._unsub=q(this.hass,t=>this._table=t)}};m(X,"properties",{hass:{attribute:!1},_config:{state:!0},_table:{state:!0}});var nt=class extends X{setConfig(t){if(t.columns&&(!Array.isArray(t.columns)||t.columns.some(e=>!w[e])))throw new Error(`columns: choose from ${Object.keys(w).join(", ")}`);this._config={title:"Network",columns:te,filter:{},...t}}getCardSize(){return 2+Math.min(this._config?.limit||8,12)}static getConfigElement(){return document.createElement("totem-devices-card-editor")}static getStubConfig(){return{title:"Network",limit:8,filter:{online:"online"}}}render(){if(!this._config)return a``;let t=this._config,e=this._table,s=e?e.devices:[];return a`<ha-card>
      <div class="card-head"><span>${t.title}</span>${e?a`<span class="muted small">${e.summary.online}/${e.summary.devices} online · ${e.summary.open_alerts} open alerts</span>`:""}</div>
      ${e?a`<totem-devices-table compact .devices=${s} .columns=${t.columns} .filters=${t.filter||{}}
            .showFilters=${!!t.show_filters} .limit=${t.limit}
            @device-selected=${i=>ke(`/totem#device/${i.detail.entry_id}/${encodeURIComponent(i.detail.mac)}`)}></totem-devices-table>`:a`<p class="muted pad">Connecting…</p>`}
    </ha-card>`}};m(nt,"styles",[_,$`
      .card-head { display: flex; justify-content: space-between; align-items: baseline; padding: 12px 16px 4px; font-size: 18px; }
      .small { font-size: 12px; }
      .pad { padding: 0 16px 16px; }
    `]);var lt=class extends X{setConfig(t){if(!t.mac)throw new Error("mac: the MAC address of the device to show");this._config={...t,mac:String(t.mac).toLowerCase()}}getCardSize(){return 6}static getConfigElement(){return document.createElement("totem-device-card-editor")}static getStubConfig(){return{mac:""}}render(){if(!this._config)return a``;let t=this._table,e=this._config.mac,s=t&&t.devices.find(i=>i.mac===e&&(!this._config.entry_id||i.entry_id===this._config.entry_id));return t?s?a`<totem-device-view compact .hass=${this.hass} .entryId=${s.entry_id} .mac=${s.mac} .refresh=${t}></totem-device-view>`:a`<ha-card><p class="pad">TOTEM has no device ${e}.</p></ha-card>`:a`<ha-card><p class="muted pad">Connecting…</p></ha-card>`}};m(lt,"styles",[_,$`.pad { padding: 16px; }`]);var N=class extends v{setConfig(t){this._config=t}_set(t,e){let s={...this._config};e===""||e==null?delete s[t]:s[t]=e,this._config=s,this.dispatchEvent(new CustomEvent("config-changed",{detail:{config:s},bubbles:!0,composed:!0}))}};m(N,"properties",{hass:{attribute:!1},_config:{state:!0}}),m(N,"styles",[_,$`label { display: flex; flex-direction: column; gap: 4px; margin-bottom: 12px; } .cols { display: flex; flex-wrap: wrap; gap: 8px; }`]);var St=class extends N{render(){if(!this._config)return a``;let t=this._config,e=t.columns||te,s=t.filter||{};return a`
      <label>Title <input .value=${t.title||""} @input=${i=>this._set("title",i.target.value)} /></label>
      <label>Rows (busiest first) <input type="number" min="1" .value=${t.limit||""} @input=${i=>this._set("limit",Number(i.target.value)||"")} /></label>
      <div>Columns</div>
      <div class="cols">${Object.entries(w).map(([i,o])=>a`<label><span><input type="checkbox" .checked=${e.includes(i)}
        @change=${n=>this._set("columns",n.target.checked?[...e,i].filter((c,l,d)=>d.indexOf(c)===l):e.filter(c=>c!==i))} /> ${o.label}</span></label>`)}</div>
      <label>Show <select @change=${i=>this._set("filter",{...s,online:i.target.value||void 0})}>
        <option value="" ?selected=${!s.online}>online and offline devices</option>
        <option value="online" ?selected=${s.online==="online"}>online devices</option>
        <option value="offline" ?selected=${s.online==="offline"}>offline devices</option></select></label>
      <label><span><input type="checkbox" .checked=${!!s.alerts} @change=${i=>this._set("filter",{...s,alerts:i.target.checked||void 0})} /> Only devices with alerts</span></label>
    `}},ct=class extends N{connectedCallback(){super.connectedCallback(),this.hass&&(this._unsub=q(this.hass,t=>this._table=t))}disconnectedCallback(){super.disconnectedCallback(),this._unsub&&this._unsub()}render(){if(!this._config)return a``;let t=this._table?[...this._table.devices].sort((e,s)=>e.name.localeCompare(s.name)):[];return a`<label>Device <select @change=${e=>this._set("mac",e.target.value)}>
      <option value="">choose a device</option>
      ${t.map(e=>a`<option value=${e.mac} ?selected=${e.mac===this._config.mac}>${e.name} (${e.mac})</option>`)}
    </select></label>`}};m(ct,"properties",{...N.properties,_table:{state:!0}});var dt=(r,t)=>customElements.get(r)||customElements.define(r,t);dt("totem-devices-card",nt);dt("totem-device-card",lt);dt("totem-devices-card-editor",St);dt("totem-device-card-editor",ct);window.customCards=window.customCards||[];for(let[r,t,e]of[["totem-devices-card","TOTEM devices","The home's devices with their traffic, alerts and access."],["totem-device-card","TOTEM device","One device: traffic chart, alerts and network access."]])window.customCards.some(s=>s.type===r)||window.customCards.push({type:r,name:t,description:e,preview:!1});
